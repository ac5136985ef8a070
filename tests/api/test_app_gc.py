"""A serving process raises the collector's young-generation threshold once everything is loaded."""

from __future__ import annotations

import gc

from strawberry.dataloader import DataLoader

from api.app import GC_YOUNG_THRESHOLD
from api.context import Context
from api.execution import PlainFieldExecutionContext
from api.loaders import Loaders
from tests.api.serving_app import cyclic_garbage, serving_app


def test_the_server_collects_young_objects_less_often(database_url: str) -> None:
    before = gc.get_threshold()
    with serving_app(database_url) as (_, client, _post):
        assert client.get("/healthz").status_code == 200
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])


def test_answered_requests_leave_no_reference_cycles(database_url: str) -> None:
    """Each request's executor, context and loaders are freed as soon as it is answered, not by
    the cyclic collector, whose young collections then ran every few hundred requests."""
    page = """query { customers(first: 10) { edges { node { externalId segments { key }
        events(first: 3) { edges { node { type } } } referrer { externalId } } } } }"""
    view = 'query { customerByExternalId(externalId: "c-1") { name segments { key } stageHistory { toStage } } }'
    with serving_app(database_url) as (_, _client, post):
        post("mutation($c: [CustomerInput!]!) { upsertCustomers(input: $c) { accepted } }",
             {"c": [{"externalId": f"c-{i}", "name": f"C {i}"} for i in range(10)]})
        post('mutation { upsertSegment(input: {key: "vip", name: "VIP"}) { __typename } }')
        post('mutation { addToSegment(input: {segmentKey: "vip", externalIds: ["c-1", "c-2"]}) { __typename } }')
        post("mutation($e: [EventInput!]!) { recordEvents(input: $e) { accepted } }",
             {"e": [{"externalId": f"c-{i}", "type": "PURCHASE", "occurredAt": "2026-11-01T10:00:00+00:00",
                     "amount": 10.0, "currency": "EUR"} for i in range(10)]})

        def requests() -> None:
            for _ in range(20):
                assert post("{ __typename }") == {"__typename": "Query"}
                assert len(post(page)["customers"]["edges"]) == 10
                assert post(view)["customerByExternalId"]["segments"] == [{"key": "vip"}]

        kinds = (PlainFieldExecutionContext, Context, Loaders, DataLoader)
        left = cyclic_garbage(requests, lambda o: isinstance(o, kinds))
        assert left == []
