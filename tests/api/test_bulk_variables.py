"""Bulk list variables: the compiled plans coerce exactly what graphql-core does, and anything they
cannot coerce takes graphql-core's path with its errors."""

from __future__ import annotations

import random
from dataclasses import astuple
from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql import parse
from graphql.execution.values import get_variable_values

from api.bulk_variables import MIN_ITEMS, BuiltItems, coerce_bulk_variables
from api.execution import PlainFieldExecutionContext
from api.inputs import EventInput, customer_draft, event_draft
from api.schema import CicloSchema
from api.types.enums import EventType

RECORD = "mutation($input: [EventInput!]!) { recordEvents(input: $input) { accepted duplicates errors { index field message } } }"
UPSERT = "mutation($c: [CustomerInput!]!) { upsertCustomers(input: $c) { accepted created errors { index field message } } }"


def _events(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        item: dict[str, Any] = {"externalId": f"b{rng.randrange(5)}", "type": rng.choice(["PURCHASE", "SURVEY", "CONTACT", "CUSTOM"]),
                                "occurredAt": rng.choice(["2025-03-01T12:00:00Z", "2025-03-01T12:00:00.5+02:00", "20250301T120000Z"])}
        for name, value in (("amount", rng.choice([3, 4.25, 0])), ("currency", "EUR"), ("score", rng.randrange(11)),
                            ("channel", "EMAIL"), ("direction", rng.choice(["INBOUND", "OUTBOUND"])), ("reason", "x"),
                            ("payload", rng.choice([{}, {"a": [1, {"b": None}]}, None])), ("idempotencyKey", f"k{i}"),
                            ("category", None)):
            if rng.random() < 0.5:
                item[name] = value
        out.append(item)
    return out


def _customers(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        item: dict[str, Any] = {"externalId": f"c{i}"}
        for name, value in (("name", "Ana"), ("email", None), ("attributes", {"age": 3, "vip": True}),
                            ("acquisitionChannel", "REFERRAL"), ("referredByExternalId", None)):
            if rng.random() < 0.5:
                item[name] = value
        out.append(item)
    return out


def test_the_plans_build_the_drafts_strawberry_builds_from_what_graphql_core_coerces(schema: CicloSchema) -> None:
    core = schema._schema
    for query, name, items, build in ((RECORD, "input", _events(1, 300), event_draft),
                                      (UPSERT, "c", _customers(2, 300), customer_draft)):
        document = parse(query)
        expected = [build(item) for item in get_variable_values(core, document.definitions[0].variable_definitions,
                                                                {name: items}).coerced[name]]
        fast = coerce_bulk_variables(core, document, None, {name: items})
        assert type(fast[name]) is BuiltItems and fast[name] == expected
        assert [type(v) for draft in fast[name] for v in astuple(draft)] == [
            type(v) for draft in expected for v in astuple(draft)
        ]


async def test_strawberry_hands_built_drafts_to_the_resolver_as_a_plain_list(schema: CicloSchema) -> None:
    seen: list[Any] = []

    @strawberry.type
    class Query:
        @strawberry.field
        def count(self, input: list[EventInput]) -> int:
            seen.append(input)
            return len(input)

    tiny = strawberry.Schema(query=Query, execution_context_class=PlainFieldExecutionContext)
    items = [{"externalId": f"b{i}", "type": "PURCHASE", "occurredAt": "2025-03-01T12:00:00Z"} for i in range(MIN_ITEMS)]
    for sent in (items, items[:3]):  # planned, and Strawberry's own conversion
        result = await tiny.execute("query($input: [EventInput!]!) { count(input: $input) }", variable_values={"input": sent})
        assert result.errors is None and result.data == {"count": len(sent)}
        assert type(seen[-1]) is list and seen[-1] == [event_draft({**item, "amount": None, "currency": None,
            "category": None, "score": None, "channel": None, "direction": None, "reason": None, "payload": None,
            "idempotencyKey": None, "type": EventType.PURCHASE, "occurredAt": datetime(2025, 3, 1, 12, tzinfo=UTC)})
            for item in sent]


def test_short_lists_and_anything_uncoercible_are_left_to_graphql_core(schema: CicloSchema) -> None:
    core, document = schema._schema, parse(RECORD)
    items = _events(3, MIN_ITEMS)
    assert coerce_bulk_variables(core, document, None, {"input": items[:-1]}) == {}
    assert coerce_bulk_variables(core, document, None, {"input": items}) != {}
    for bad in ({"type": "TELEGRAM"}, {"amount": "12"}, {"score": 2.5}, {"occurredAt": "soon"}, {"unknown": 1},
                {"externalId": None}, {"direction": "SIDEWAYS"}):
        broken = [*items[:5], {**items[5], **bad}, *items[6:]]
        assert coerce_bulk_variables(core, document, None, {"input": broken}) == {}, bad
    assert coerce_bulk_variables(core, document, None, {"input": [*items[:5], None, *items[6:]]}) == {}
    missing_type = [*items[:5], {k: v for k, v in items[5].items() if k != "type"}, *items[6:]]
    assert coerce_bulk_variables(core, document, None, {"input": missing_type}) == {}


async def test_a_bulk_call_records_its_events_and_reports_item_errors(gql: Any, make_customer: Any) -> None:
    for i in range(5):
        await make_customer(external_id=f"b{i}")
    events = [{"externalId": f"b{i % 5}", "type": "PURCHASE", "occurredAt": "2025-03-01T12:00:00Z", "amount": 2.5,
               "idempotencyKey": f"k{i}"} for i in range(40)]
    events[7] = {**events[7], "externalId": "nobody"}
    events[9] = {**events[9], "amount": -1.0}
    result = (await gql(RECORD, {"input": events}))["recordEvents"]
    assert result["accepted"] == 38 and result["duplicates"] == 0
    assert [(e["index"], e["field"]) for e in result["errors"]] == [(7, "externalId"), (9, "amount")]
    again = (await gql(RECORD, {"input": events}))["recordEvents"]
    assert again["accepted"] == 0 and again["duplicates"] == 38


async def test_a_shape_error_deep_in_a_bulk_call_is_graphql_cores_own(gql: Any, make_customer: Any) -> None:
    await make_customer(external_id="b0")
    events = [{"externalId": "b0", "type": "PURCHASE", "occurredAt": "2025-03-01T12:00:00Z"} for _ in range(40)]
    events[33] = {**events[33], "type": "TELEGRAM"}
    bad = await gql(RECORD, {"input": events}, expect_errors=True)
    assert bad.errors[0].message == "Variable '$input' has invalid value at [33].type: Value 'TELEGRAM' does not exist in 'EventType' enum."
    assert bad.data is None


def test_string_and_id_lists_are_what_graphql_core_coerces_and_odd_ones_go_its_way(schema: CicloSchema) -> None:
    core = schema._schema
    ids = [f"e-{i}" for i in range(MIN_ITEMS + 5)]
    for declared in ("[String!]!", "[String!]", "[ID!]!"):
        document = parse(f"query($ids: {declared}) {{ __typename }}")
        expected = get_variable_values(core, document.definitions[0].variable_definitions, {"ids": ids}).coerced["ids"]
        fast = coerce_bulk_variables(core, document, None, {"ids": ids})
        assert fast == {"ids": expected} and fast["ids"] is not ids
    strict = parse("query($ids: [String!]!) { __typename }")
    for odd in ([*ids[:3], 7, *ids[4:]], [*ids[:3], None, *ids[4:]], ids[: MIN_ITEMS - 1]):
        assert coerce_bulk_variables(core, strict, None, {"ids": odd}) == {}
    # nullable items, and other scalars, keep graphql-core's coercion
    for declared in ("[String]!", "[Int!]!"):
        assert coerce_bulk_variables(core, parse(f"query($ids: {declared}) {{ __typename }}"), None, {"ids": ids}) == {}


async def test_decide_batch_with_a_non_string_external_id_gets_graphql_cores_error(gql: Any) -> None:
    query = """mutation($ids: [String!]!) { decideBatch(input: {decisionPoint: "X", externalIds: $ids}) { __typename } }"""
    ids: list[Any] = [f"e-{i}" for i in range(MIN_ITEMS + 1)]
    ids[20] = 12
    bad = await gql(query, {"ids": ids}, expect_errors=True)
    assert bad.errors[0].message == "Variable '$ids' has invalid value at [20]: String cannot represent a non string value: 12"
    assert bad.data is None
