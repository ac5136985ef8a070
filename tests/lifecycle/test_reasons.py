"""Churn and lost-prospect reasons: from events, by mutation, an extensible taxonomy, a breakdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.container import Services
from services.domain import CustomerDraft, EventDraft

NOW = datetime.now(UTC).replace(microsecond=0)
BREAKDOWN = """query($kind: ReasonKind!, $segment: String) {
  reasonBreakdown(kind: $kind, segmentKey: $segment) { code count share } }"""
RECORD = """mutation($input: ReasonInput!) { recordReason(input: $input) {
  __typename ... on Reason { kind code text } ... on InvalidInput { field message }
  ... on CustomerNotFound { externalId } } }"""


async def seed(services: Services) -> None:
    await services.customers.upsert_many([CustomerDraft(external_id=f"q{i}") for i in range(6)])
    events = [
        EventDraft("q0", "SUBSCRIPTION_CANCELLED", NOW - timedelta(days=3), reason="Price"),
        EventDraft("q1", "SUBSCRIPTION_CANCELLED", NOW - timedelta(days=2), reason="no longer needed"),
        EventDraft("q2", "SUBSCRIPTION_CANCELLED", NOW - timedelta(days=1), reason="my dog ate the router"),
        EventDraft("q3", "SUBSCRIPTION_CANCELLED", NOW - timedelta(days=1), reason="PRICE"),
        EventDraft("q4", "CUSTOM", NOW - timedelta(days=1), category="LOST_PROSPECT", reason="too complex"),
    ]
    assert not (await services.events.record_many(events)).errors


async def test_cancellation_reasons_are_recorded_matched_to_the_taxonomy_and_broken_down(services: Services, gql: Any) -> None:
    await seed(services)
    rows = (await gql(BREAKDOWN, {"kind": "CHURN"}))["reasonBreakdown"]
    assert rows == [
        {"code": "PRICE", "count": 2, "share": 0.5},
        {"code": "NO_LONGER_NEEDED", "count": 1, "share": 0.25},
        {"code": "OTHER", "count": 1, "share": 0.25},
    ]
    view = await gql('{ customerByExternalId(externalId: "q2") { churnReason { code text } } }')
    assert view["customerByExternalId"]["churnReason"] == {"code": "OTHER", "text": "my dog ate the router"}
    lost = (await gql(BREAKDOWN, {"kind": "LOST_PROSPECT"}))["reasonBreakdown"]
    assert lost == [{"code": "TOO_COMPLEX", "count": 1, "share": 1.0}]


async def test_replaying_events_or_recomputing_never_duplicates_reasons(services: Services, gql: Any) -> None:
    await seed(services)
    await services.events.record_many([EventDraft("q0", "COMPLAINT", NOW)])
    await services.lifecycle.recompute()
    rows = (await gql(BREAKDOWN, {"kind": "CHURN"}))["reasonBreakdown"]
    assert sum(r["count"] for r in rows) == 4


async def test_reasons_set_by_mutation_and_taxonomy_extended(services: Services, gql: Any) -> None:
    await seed(services)
    unknown = (await gql(RECORD, {"input": {"externalId": "q5", "kind": "CHURN", "code": "WEATHER"}}))["recordReason"]
    assert unknown["__typename"] == "InvalidInput" and unknown["field"] == "code"
    added = await gql("""mutation { addReasonCode(input: {kind: CHURN, code: "WEATHER", label: "Bad weather"}) {
      __typename ... on ReasonCode { code label } } }""")
    assert added["addReasonCode"] == {"__typename": "ReasonCode", "code": "WEATHER", "label": "Bad weather"}
    bad = await gql("""mutation { addReasonCode(input: {kind: CHURN, code: "bad code", label: "x"}) {
      __typename ... on InvalidInput { field } } }""")
    assert bad["addReasonCode"] == {"__typename": "InvalidInput", "field": "code"}
    saved = (await gql(RECORD, {"input": {"externalId": "q5", "kind": "CHURN", "code": "WEATHER", "text": "storms"}}))
    assert saved["recordReason"] == {"__typename": "Reason", "kind": "CHURN", "code": "WEATHER", "text": "storms"}
    missing = (await gql(RECORD, {"input": {"externalId": "nobody", "kind": "CHURN", "code": "PRICE"}}))["recordReason"]
    assert missing == {"__typename": "CustomerNotFound", "externalId": "nobody"}
    codes = await gql("{ reasonCodes(kind: CHURN) { code } }")
    assert {"PRICE", "SERVICE_QUALITY", "COMPETITOR", "PRODUCT_FIT", "MOVED", "NO_LONGER_NEEDED", "OTHER", "WEATHER"} == {
        c["code"] for c in codes["reasonCodes"]
    }
    # By segment: only members count.
    await services.segments.upsert("few", "Few", None)
    await services.segments.change_members("few", ["q0", "q5"], add=True)
    rows = (await gql(BREAKDOWN, {"kind": "CHURN", "segment": "few"}))["reasonBreakdown"]
    assert {r["code"]: r["count"] for r in rows} == {"PRICE": 1, "WEATHER": 1}
