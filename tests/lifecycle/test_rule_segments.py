"""Rule segments: rule trees compiled to SQL on both backends, previews, invalid rules by path,
and membership that follows events and recomputes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.container import Services
from services.domain import CustomerDraft, EventDraft

NOW = datetime.now(UTC).replace(microsecond=0)

UPSERT = """mutation($input: SegmentInput!) { upsertSegment(input: $input) {
  __typename ... on Segment { key memberCount } ... on InvalidInput { field message } } }"""
PREVIEW = """query($rule: JSON!) { previewSegment(rule: $rule, sample: 3) {
  __typename ... on SegmentPreview { count sample { externalId } } ... on InvalidInput { field message } } }"""


async def seed(services: Services) -> None:
    services.lifecycle.clock = lambda: NOW
    drafts = [
        CustomerDraft(external_id="r1", region="Norte", attributes={"age": 34, "credit": "A", "vip": True}),
        CustomerDraft(external_id="r2", region="Sur", attributes={"age": "unknown", "credit": "B"}),
        CustomerDraft(external_id="r3", region="Norte", attributes={"age": 61}),
        CustomerDraft(external_id="r4", email="r4@example.com"),
    ]
    assert not (await services.customers.upsert_many(drafts)).errors
    events = [
        EventDraft("r1", "PURCHASE", NOW - timedelta(days=5), amount=120.0),
        EventDraft("r1", "PURCHASE", NOW - timedelta(days=50), amount=80.0),
        EventDraft("r1", "PURCHASE", NOW - timedelta(days=400), amount=10.0),
        EventDraft("r2", "PURCHASE", NOW - timedelta(days=10), amount=15.0),
        EventDraft("r2", "COMPLAINT", NOW - timedelta(days=1)),
        EventDraft("r3", "SIGNUP", NOW - timedelta(days=3)),
    ]
    assert not (await services.events.record_many(events)).errors


async def members(gql: Any, rule: dict[str, Any]) -> list[str]:
    data = await gql(PREVIEW, {"rule": rule})
    assert data["previewSegment"]["__typename"] == "SegmentPreview", data
    return [c["externalId"] for c in data["previewSegment"]["sample"]]


async def test_leaves_cover_profile_attributes_stage_events_and_alerts(services: Services, gql: Any) -> None:
    await seed(services)
    assert await members(gql, {"field": "region", "op": "EQ", "value": "Norte"}) == ["r1", "r3"]
    assert await members(gql, {"field": "attributes.age", "op": "GTE", "value": 40}) == ["r3"]
    # A non-numeric attribute is simply not a match (no cast error on PostgreSQL).
    assert await members(gql, {"field": "attributes.age", "op": "LT", "value": 100}) == ["r1", "r3"]
    assert await members(gql, {"field": "attributes.credit", "op": "IN", "value": ["A", "B"]}) == ["r1", "r2"]
    assert await members(gql, {"field": "attributes.vip", "op": "EQ", "value": True}) == ["r1"]
    assert await members(gql, {"field": "attributes.credit", "op": "IS_NULL", "value": True}) == ["r3", "r4"]
    # r4 gave contact data (no events yet): the upsert already placed it.
    assert await members(gql, {"field": "stage", "op": "IN", "value": ["ACQUISITION"]}) == ["r3", "r4"]
    recent = {"field": "events.count", "eventType": "PURCHASE", "withinDays": 90, "op": "GTE", "value": 2}
    assert await members(gql, recent) == ["r1"]
    spent = {"field": "events.sum", "eventType": "PURCHASE", "op": "GT", "value": 100}
    assert await members(gql, spent) == ["r1"]
    assert await members(gql, {"field": "alerts.open", "op": "CONTAINS", "value": "COMPLAINT"}) == ["r2"]
    assert await members(gql, {"field": "purchaseCount", "op": "EQ", "value": 3}) == ["r1"]
    assert await members(gql, {"field": "name", "op": "IS_NULL", "value": True}) == ["r1", "r2", "r3"]
    combined = {"all": [{"field": "region", "op": "EQ", "value": "Norte"},
                        {"not": {"field": "stage", "op": "EQ", "value": "ACQUISITION"}}]}
    assert await members(gql, combined) == ["r1"]
    await services.lifecycle.recompute()
    assert await members(gql, {"field": "stage", "op": "IN", "value": ["ACQUISITION"]}) == ["r3", "r4"]
    either = {"any": [{"field": "daysSinceLastPurchase", "op": "LT", "value": 7},
                      {"field": "email", "op": "CONTAINS", "value": "EXAMPLE"}]}
    assert await members(gql, either) == ["r1", "r4"]


async def test_an_invalid_rule_is_rejected_with_the_path_of_the_bad_node(services: Services, gql: Any) -> None:
    bad = {"all": [{"field": "region", "op": "EQ", "value": "x"}, {"any": [
        {"field": "stage", "op": "EQ", "value": "GROWTH"}, {"field": "stage", "op": "BETWEEN", "value": 1}]}]}
    data = await gql(PREVIEW, {"rule": bad})
    assert data["previewSegment"]["__typename"] == "InvalidInput"
    assert data["previewSegment"]["field"] == "rule.all[1].any[1].op"
    cases = [
        ({"field": "nope", "op": "EQ", "value": 1}, "rule.field"),
        ({"field": "stage", "op": "EQ", "value": "GOLD"}, "rule.value"),
        ({"field": "events.count", "op": "GT", "value": 1}, "rule.eventType"),
        ({"all": []}, "rule.all"),
        ({"not": {"field": "purchaseCount", "op": "GT", "value": "3"}}, "rule.not.value"),
        ({"field": "alerts.open", "op": "IN", "value": ["COMPLAINT", "SPAM"]}, "rule.value[1]"),
    ]
    for rule, path in cases:
        result = (await gql(PREVIEW, {"rule": rule}))["previewSegment"]
        assert (result["__typename"], result["field"]) == ("InvalidInput", path), rule
    saved = (await gql(UPSERT, {"input": {"key": "bad", "name": "Bad", "rule": bad}}))["upsertSegment"]
    assert saved["field"] == "rule.all[1].any[1].op"


async def test_membership_follows_new_events_and_recomputes(services: Services, gql: Any) -> None:
    await seed(services)
    rule = {"field": "events.count", "eventType": "PURCHASE", "op": "GTE", "value": 1}
    saved = (await gql(UPSERT, {"input": {"key": "buyers", "name": "Buyers", "rule": rule}}))["upsertSegment"]
    assert saved == {"__typename": "Segment", "key": "buyers", "memberCount": 2}
    # r3 buys: the event batch updates membership in the same transaction.
    assert not (await services.events.record_many([EventDraft("r3", "PURCHASE", NOW, amount=5.0)])).errors
    listed = await gql('{ customers(filter: {segmentKey: "buyers"}, orderBy: ID_ASC) { edges { node { externalId } } } }')
    assert [e["node"]["externalId"] for e in listed["customers"]["edges"]] == ["r1", "r2", "r3"]
    # A rule on RFM scores is filled by the full recompute.
    await gql(UPSERT, {"input": {"key": "top", "name": "Top", "rule": {"field": "valueTier", "op": "EQ", "value": "PLATINUM"}}})
    await services.lifecycle.recompute()
    segments = {s["key"]: s["memberCount"] for s in (await gql("{ segments { key memberCount } }"))["segments"]}
    assert segments["top"] == 1 and segments["buyers"] == 3
