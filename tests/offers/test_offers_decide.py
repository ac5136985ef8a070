"""decide and decideBatch through the GraphQL schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from db.models import Decision
from services.container import Services
from services.offers.values import LeverDraft

DECIDE = """
mutation($input: DecideInput!) {
  decide(input: $input) {
    __typename
    ... on Decision { id lever { key name kind } propensity expectedReward candidates requestId policyVersion modelVersion activatedAt
      customer { externalId }
      explanation { candidates { lever estimatedReward score } features { name value } } }
    ... on CustomerNotFound { externalId }
    ... on UnknownDecisionPoint { key }
    ... on NoEligibleLever { candidates }
    ... on InvalidContext { key message }
    ... on InvalidInput { field message }
  }
}
"""

BATCH = """
mutation($input: DecideBatchInput!) {
  decideBatch(input: $input) {
    __typename
    ... on DecisionBatch { decisions { totalCount edges { node { id lever { key } propensity customer { externalId } } } }
                           errors { index field message } }
    ... on UnknownDecisionPoint { key }
    ... on SegmentNotFound { key }
    ... on InvalidInput { field }
  }
}
"""


async def decide(gql: Any, **fields: Any) -> dict[str, Any]:
    base = {"decisionPoint": "RETENTION", "externalId": "c-1", "context": {"channel": "web"}}
    return (await gql(DECIDE, {"input": {**base, **fields}}))["decide"]


async def decision_rows(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Decision)) or 0)


async def test_decide_logs_a_decision_with_propensity_and_explanation(gql, configure, make_customer) -> None:
    await make_customer(external_id="c-1", attributes={"price_sensitive": True})
    await configure()
    found = await decide(gql, requestId="r-1")
    assert found["__typename"] == "Decision"
    assert 0 < found["propensity"] <= 1
    assert found["lever"]["key"] in found["candidates"] and found["lever"]["name"]
    assert found["customer"] == {"externalId": "c-1"}
    assert found["activatedAt"] is not None and found["modelVersion"] == 0 and found["policyVersion"] == 1
    assert {c["lever"] for c in found["explanation"]["candidates"]} == set(found["candidates"])
    features = {f["name"]: f["value"] for f in found["explanation"]["features"]}
    assert features == {"attributes.price_sensitive": True, "valueTier": None, "context.channel": "web"}


async def test_decide_errors_come_back_as_typed_results(gql, configure, make_customer, services) -> None:
    await make_customer(external_id="c-1", attributes={"price_sensitive": "maybe", "age": "old"})
    await configure(features=("attributes.price_sensitive", "context.cart", "attributes.age"),
                    context_examples=({"cart": 10.0},))
    assert (await decide(gql, decisionPoint="NOPE"))["key"] == "NOPE"
    assert (await decide(gql, externalId="ghost"))["externalId"] == "ghost"
    assert (await decide(gql, candidates=["UNKNOWN"]))["__typename"] == "NoEligibleLever"
    bad = await decide(gql, context={"cart": {"nested": 1}})
    assert bad == {"__typename": "InvalidContext", "key": "context.cart", "message": bad["message"]}
    wrong_type = await decide(gql, context={"cart": "ten"})
    assert wrong_type["__typename"] == "InvalidContext" and wrong_type["key"] == "context.cart"
    too_long = await decide(gql, requestId="x" * 200)
    assert too_long["__typename"] == "InvalidInput" and too_long["field"] == "requestId"
    await services.offers.catalog.upsert_lever(LeverDraft("NO_ACTION", "Nothing", "NO_ACTION", active=False))
    assert (await decide(gql, candidates=["NO_ACTION"]))["__typename"] == "NoEligibleLever"
    assert await decision_rows(services) == 0


async def test_same_request_id_returns_the_same_decision_and_writes_one_row(gql, configure, make_customer, services) -> None:
    await make_customer(external_id="c-1")
    await configure()
    first = await decide(gql, requestId="checkout-1")
    again = await decide(gql, requestId="checkout-1")
    assert again == first
    racing = await asyncio.gather(*(decide(gql, requestId="checkout-2") for _ in range(8)))
    assert len({r["id"] for r in racing}) == 1
    assert await decision_rows(services) == 2
    await make_customer(external_id="c-2")
    other = await decide(gql, requestId="checkout-1", externalId="c-2")
    assert other["__typename"] == "InvalidInput" and other["field"] == "requestId"


async def test_candidates_restrict_the_choice(gql, configure, make_customer) -> None:
    await make_customer(external_id="c-1")
    await configure()
    for _ in range(5):
        only = await decide(gql, candidates=["FREE_SHIPPING"])
        assert only["lever"] == {"key": "FREE_SHIPPING", "name": "Free shipping", "kind": "FREE_SHIPPING"}
        assert only["propensity"] == 1.0 and only["candidates"] == ["FREE_SHIPPING"]
    two = await decide(gql, candidates=["FREE_SHIPPING", "NO_ACTION", "NOT_A_LEVER"])
    assert two["lever"]["key"] in {"FREE_SHIPPING", "NO_ACTION"} and 0 < two["propensity"] <= 1


async def test_decide_batch_decides_for_each_customer_and_reports_bad_items(gql, configure, make_customer, services) -> None:
    for i in range(30):
        await make_customer(external_id=f"b-{i}", attributes={"price_sensitive": i % 2 == 0})
    await configure()
    ids = [f"b-{i}" for i in range(30)] + ["ghost", "b-3"]
    result = (await gql(BATCH, {"input": {"decisionPoint": "RETENTION", "externalIds": ids, "requestId": "camp-1"}}))["decideBatch"]
    assert result["decisions"]["totalCount"] == 30
    nodes = [e["node"] for e in result["decisions"]["edges"]]
    assert [n["customer"]["externalId"] for n in nodes] == ids[:30]
    assert all(0 < n["propensity"] <= 1 for n in nodes)
    assert [(e["index"], e["field"]) for e in result["errors"]] == [(30, "externalIds"), (31, "externalIds")]
    replay = (await gql(BATCH, {"input": {"decisionPoint": "RETENTION", "externalIds": ids[:30], "requestId": "camp-1"}}))["decideBatch"]
    assert [e["node"]["id"] for e in replay["decisions"]["edges"]] == [n["id"] for n in nodes]
    assert await decision_rows(services) == 30
    unknown = (await gql(BATCH, {"input": {"decisionPoint": "NOPE", "externalIds": ids}}))["decideBatch"]
    assert unknown == {"__typename": "UnknownDecisionPoint", "key": "NOPE"}


async def test_decide_batch_reports_a_customer_whose_attribute_cannot_be_encoded(configure, make_customer, services) -> None:
    from services.offers.values import BatchRequest

    await make_customer(external_id="n-1", attributes={"age": 30})
    await make_customer(external_id="n-2", attributes={"age": 40})
    await configure(features=("attributes.age",), context_examples=())
    await make_customer(external_id="n-3", attributes={"age": "unknown"})
    result = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", ("n-1", "n-3", "n-2")))
    assert [d.customer_id for d in result.decisions] and len(result.decisions) == 2
    assert [(e.index, e.field) for e in result.errors] == [(1, "attributes.age")]


async def test_decide_by_customer_id_and_batch_by_segment(gql, configure, make_customer, services) -> None:
    ids = [await make_customer(external_id=f"s-{i}") for i in range(5)]
    await configure()
    by_id = await decide(gql, externalId=None, customerId=str(ids[0]), deferActivation=True)
    assert by_id["customer"] == {"externalId": "s-0"} and by_id["activatedAt"] is None
    both = await decide(gql, customerId=str(ids[0]))
    assert both["__typename"] == "InvalidInput"
    await services.segments.upsert("vip", "VIP", None)
    await services.segments.change_members("vip", ["s-1", "s-2", "s-4"], add=True)
    run = (await gql(BATCH, {"input": {"decisionPoint": "RETENTION", "segmentKey": "vip", "limit": 2}}))["decideBatch"]
    assert [e["node"]["customer"]["externalId"] for e in run["decisions"]["edges"]] == ["s-1", "s-2"]
    missing = (await gql(BATCH, {"input": {"decisionPoint": "RETENTION", "segmentKey": "nope"}}))["decideBatch"]
    assert missing == {"__typename": "SegmentNotFound", "key": "nope"}
