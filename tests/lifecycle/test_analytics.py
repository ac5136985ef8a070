"""Funnel, cohorts, churn and reactivation rates, acquisition mix and referrers, on both backends.

Events are fed in time order with the lifecycle clock following them, as a live system would see
them, so the stage history holds every move (churn in March, comeback in June...).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from db.models import Customer
from services.container import Services
from services.domain import CustomerDraft, EventDraft

NOW = datetime.now(UTC).replace(microsecond=0)


def at(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


async def seed(services: Services) -> None:
    drafts = [
        CustomerDraft(external_id="k0", acquisition_channel="WORD_OF_MOUTH"),
        CustomerDraft(external_id="k1", acquisition_channel="WORD_OF_MOUTH"),
        CustomerDraft(external_id="k2", acquisition_channel="REFERRAL", referred_by_external_id="k0"),
        CustomerDraft(external_id="k3", acquisition_channel="ADVERTISING"),
    ]
    assert not (await services.customers.upsert_many(drafts)).errors
    async with services.sessions.begin() as session:
        await session.execute(update(Customer).values(created_at=at(2025, 1, 15, 0)))
    events = [
        EventDraft("k0", "SIGNUP", at(2025, 1, 16)), EventDraft("k1", "SIGNUP", at(2025, 1, 16)),
        EventDraft("k2", "SIGNUP", at(2025, 1, 17)),
        EventDraft("k0", "PURCHASE", at(2025, 1, 20), amount=50.0),
        EventDraft("k0", "PURCHASE", at(2025, 2, 20), amount=50.0),
        EventDraft("k0", "SUBSCRIPTION_CANCELLED", at(2025, 3, 10), reason="PRICE"),
        EventDraft("k0", "PURCHASE", at(2025, 6, 1), amount=30.0),
    ]
    month, year = 1, 2025
    while (year, month) <= (2026, 10):
        events.append(EventDraft("k1", "PURCHASE", at(year, month, 25), amount=20.0))
        month, year = (1, year + 1) if month == 12 else (month + 1, year)
    for event in sorted(events, key=lambda e: e.occurred_at):  # type: ignore[arg-type, return-value]
        services.lifecycle.clock = lambda moment=event.occurred_at: moment
        assert not (await services.events.record_many([event])).errors
    services.lifecycle.clock = lambda: NOW
    await services.lifecycle.sweep()


async def test_funnel_counts_conversions_and_median_days_in_stage(services: Services, gql: Any) -> None:
    await seed(services)
    data = await gql("{ funnel { stage entered conversionToNext medianDaysInStage } }")
    steps = {s["stage"]: s for s in data["funnel"]}
    assert [steps[s]["entered"] for s in ("AWARENESS", "ACQUISITION", "CONVERSION", "GROWTH", "RETENTION")] == [4, 3, 2, 2, 1]
    assert steps["AWARENESS"]["conversionToNext"] == 0.75
    assert steps["ACQUISITION"]["medianDaysInStage"] == 6.5  # 4 and 9 days from signup to first purchase
    assert steps["GROWTH"]["conversionToNext"] == 0.5
    outside = await gql('{ funnel(from: "2026-01-01T00:00:00Z") { stage entered } }')
    assert all(s["entered"] == 0 for s in outside["funnel"])


async def test_churn_and_reactivation_rates_per_month(services: Services, gql: Any) -> None:
    await seed(services)
    churn = await gql('{ churnRate(from: "2025-03-01T00:00:00Z", to: "2025-05-01T00:00:00Z") { month base events rate } }')
    assert churn["churnRate"] == [
        {"month": "2025-03", "base": 2, "events": 1, "rate": 0.5},
        {"month": "2025-04", "base": 1, "events": 0, "rate": 0.0},
    ]
    back = await gql('{ reactivationRate(from: "2025-06-01T00:00:00Z", to: "2025-07-01T00:00:00Z") { month base events rate } }')
    assert back["reactivationRate"] == [{"month": "2025-06", "base": 1, "events": 1, "rate": 1.0}]


async def test_cohorts_show_active_churned_and_reactivated_shares(services: Services, gql: Any) -> None:
    await seed(services)
    data = await gql("{ cohorts(groupBy: MONTH) { month customers points { monthsAfter active churned reactivated } } }")
    (cohort,) = data["cohorts"]
    assert (cohort["month"], cohort["customers"]) == ("2025-01", 4)
    points = {p["monthsAfter"]: p for p in cohort["points"]}
    assert points[1] == {"monthsAfter": 1, "active": 0.5, "churned": 0.0, "reactivated": 0.0}
    assert points[3] == {"monthsAfter": 3, "active": 0.25, "churned": 0.25, "reactivated": 0.0}
    assert points[6] == {"monthsAfter": 6, "active": 0.25, "churned": 0.0, "reactivated": 0.25}
    assert points[12] == {"monthsAfter": 12, "active": 0.25, "churned": 0.25, "reactivated": 0.0}


async def test_acquisition_mix_and_top_referrers(services: Services, gql: Any) -> None:
    await seed(services)
    mix = await gql("{ acquisitionMix(groupBy: MONTH) { month total channels { channel count share } } }")
    assert mix["acquisitionMix"] == [{"month": "2025-01", "total": 4, "channels": [
        {"channel": "WORD_OF_MOUTH", "count": 2, "share": 0.5},
        {"channel": "ADVERTISING", "count": 1, "share": 0.25},
        {"channel": "REFERRAL", "count": 1, "share": 0.25},
    ]}]
    top = await gql("{ topReferrers(first: 5) { customer { externalId referralCount } referrals conversions } }")
    assert top["topReferrers"] == [
        {"customer": {"externalId": "k0", "referralCount": 1}, "referrals": 1, "conversions": 0}
    ]
