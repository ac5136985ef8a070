"""A serving process raises the collector's young-generation threshold once everything is loaded."""

from __future__ import annotations

import gc
from collections.abc import Callable

from starlette.testclient import TestClient
from strawberry.dataloader import DataLoader

from api.app import GC_YOUNG_THRESHOLD, create_app
from api.context import Context
from api.execution import PlainFieldExecutionContext
from api.loaders import Loaders
from api.settings import Settings
from tests.api.serving_app import serving_app


def test_the_server_collects_young_objects_less_often(database_url: str) -> None:
    before = gc.get_threshold()
    try:
        app = create_app(Settings(database_url=database_url, auth=False, log_level="warning"))
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _leftover(kinds: tuple[type, ...], run: Callable[[], None]) -> list[str]:
    """The objects of ``kinds`` that only the cyclic collector could free after ``run()``."""
    gc.collect()
    gc.disable()
    try:
        run()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return [type(o).__name__ for o in gc.garbage if isinstance(o, kinds)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


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

        left = _leftover((PlainFieldExecutionContext, Context, Loaders, DataLoader), requests)
        assert left == []
