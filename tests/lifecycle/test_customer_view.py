"""The customer view's lifecycle fields, and their cost: constant statements per page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.container import Services
from services.domain import CustomerDraft, EventDraft

NOW = datetime.now(UTC).replace(microsecond=0)
VIEW = """query($first: Int!) { customers(first: $first, orderBy: ID_ASC) { edges { node {
  externalId valueTier rfm { recency frequency monetary segment }
  alerts { type status } churnReason { code text }
  referralCount referralConversions daysSinceLastPurchase purchaseRhythmDays
} } } }"""


async def seed(services: Services, n: int) -> None:
    services.lifecycle.clock = lambda: NOW
    drafts = [CustomerDraft(external_id="v0")] + [
        CustomerDraft(external_id=f"v{i}", referred_by_external_id="v0" if i % 3 == 0 else None) for i in range(1, n)
    ]
    assert not (await services.customers.upsert_many(drafts)).errors
    events = [
        EventDraft(f"v{i}", "PURCHASE", NOW - timedelta(days=10 * k + i % 7), amount=10.0 * (i + 1))
        for i in range(n) for k in range(i % 4)
    ]
    events.append(EventDraft("v1", "SUBSCRIPTION_CANCELLED", NOW - timedelta(hours=1), reason="competitor"))
    assert not (await services.events.record_many(events)).errors
    await services.lifecycle.recompute()


async def test_the_customer_view_shows_value_alarms_reason_referrals_and_rhythm(services: Services, gql: Any) -> None:
    await seed(services, 30)
    nodes = {e["node"]["externalId"]: e["node"] for e in (await gql(VIEW, {"first": 30}))["customers"]["edges"]}
    assert nodes["v0"]["referralCount"] == 9  # v3, v6, ... v27
    assert nodes["v0"]["referralConversions"] == sum(1 for i in range(3, 30, 3) if i % 4)
    assert nodes["v0"]["rfm"] is None and nodes["v0"]["valueTier"] == "BRONZE"
    v1 = nodes["v1"]
    assert v1["churnReason"] == {"code": "COMPETITOR", "text": None}
    assert {"type": "CANCELLATION_REQUEST", "status": "OPEN"} in v1["alerts"]
    v3 = nodes["v3"]  # three purchases, 10 days apart, the last 3 days ago
    assert v3["purchaseRhythmDays"] == 10.0
    assert abs(v3["daysSinceLastPurchase"] - 3.0) < 0.01
    assert set(v3["rfm"]) == {"recency", "frequency", "monetary", "segment"}
    assert all(1 <= v3["rfm"][k] <= 5 for k in ("recency", "frequency", "monetary"))
    tiers = [n["valueTier"] for n in nodes.values()]
    assert tiers.count("PLATINUM") >= 1 and tiers.count("GOLD") >= 1


async def test_lifecycle_fields_cost_a_constant_number_of_statements(
    services: Services, gql: Any, statements: list[str]
) -> None:
    await seed(services, 60)
    statements.clear()
    await gql(VIEW, {"first": 5})
    small = len(statements)
    statements.clear()
    await gql(VIEW, {"first": 50})
    assert len(statements) == small, statements
    # page + standing (metrics, scores) + alerts + churn reason + referral counts
    assert small <= 7, statements
