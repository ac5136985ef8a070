"""A small hand-built decision log, written through the real services, with known answers.

| customer | state after setup                   | lever         | decisions (day, outcome)                         |
|----------|-------------------------------------|---------------|--------------------------------------------------|
| c-1      | CONVERSION, buyer, segment vip      | DISCOUNT_10   | Mon 5 Oct: accepted 100; accepted 50 (campaign 7)|
| c-2      | CHURNED, churn reason PRICE         | DISCOUNT_10   | Wed 7 Oct: declined; declined; activated, none   |
| c-3      | ACQUISITION, segment vip            | FREE_SHIPPING | Sun 11 Oct 23:30: accepted 40; declined; deferred|
| c-4      | ACQUISITION                         | PERSONAL_CALL | Mon 12 Oct: accepted 20; declined                |
| c-5      | ACQUISITION, segment vip            | NO_ACTION     | Tue 13 Oct: accepted 10; declined (campaign 7)   |
| c-6      | ACQUISITION                         | NO_ACTION     | Wed 14 Oct: declined; declined                   |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from db.models import Customer, CustomerScores, Decision
from services.container import Services
from services.domain import CustomerDraft, EventDraft
from services.offers.values import DecideRequest, DecisionPointDraft, LeverDraft, OutcomeReport, Policy

LEVERS = (
    LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10),
    LeverDraft("FREE_SHIPPING", "Free shipping", "FREE_SHIPPING", unit_cost=4),
    LeverDraft("PERSONAL_CALL", "A call from an agent", "PERSONAL_CALL", contact_cost=3),
    LeverDraft("NO_ACTION", "Nothing", "NO_ACTION"),
)
POINT = "RETENTION"
CAMPAIGN = 7

# (customer, lever, when, [outcome per decision: (accepted, revenue) | "pending" | "deferred"])
LOG: tuple[tuple[str, str, datetime, tuple[Any, ...]], ...] = (
    ("c-1", "DISCOUNT_10", datetime(2026, 10, 5, 10, tzinfo=UTC), ((True, 100.0), (True, 50.0))),
    ("c-2", "DISCOUNT_10", datetime(2026, 10, 7, 10, tzinfo=UTC), ((False, None), (False, None), "pending")),
    ("c-3", "FREE_SHIPPING", datetime(2026, 10, 11, 23, 30, tzinfo=UTC), ((True, 40.0), (False, None), "deferred")),
    ("c-4", "PERSONAL_CALL", datetime(2026, 10, 12, 10, tzinfo=UTC), ((True, 20.0), (False, None))),
    ("c-5", "NO_ACTION", datetime(2026, 10, 13, 10, tzinfo=UTC), ((True, 10.0), (False, None))),
    ("c-6", "NO_ACTION", datetime(2026, 10, 14, 10, tzinfo=UTC), ((False, None), (False, None))),
)


@dataclass(frozen=True)
class HandLog:
    tiers: dict[str, str]


async def build_hand_log(services: Services) -> HandLog:
    await services.customers.upsert_many(
        [CustomerDraft(external_id=f"c-{i}", name=f"Cliente {i}", email=f"c{i}@example.com") for i in range(1, 7)]
    )
    recent = datetime.now(UTC) - timedelta(days=2)
    events = [
        EventDraft("c-1", "PURCHASE", recent, amount=80.0, currency="EUR"),
        EventDraft("c-2", "PURCHASE", recent - timedelta(days=1), amount=30.0, currency="EUR"),
        EventDraft("c-2", "SUBSCRIPTION_CANCELLED", recent, reason="price"),
    ]
    assert not (await services.events.record_many(events)).errors
    await services.lifecycle.recompute()
    await services.segments.upsert("vip", "VIP", None)
    assert not (await services.segments.change_members("vip", ["c-1", "c-3", "c-5"], add=True)).errors
    for lever in LEVERS:
        await services.offers.catalog.upsert_lever(lever)
    await services.offers.catalog.configure(
        DecisionPointDraft(POINT, tuple(lever.key for lever in LEVERS), policy=Policy("THOMPSON", seed=1))
    )
    offers = services.offers
    for external_id, lever, when, outcomes in LOG:
        for step, outcome in enumerate(outcomes):
            moment = when + timedelta(minutes=step)
            offers.decisions.clock = offers.outcomes.clock = lambda moment=moment: moment
            decision = await offers.decisions.decide(
                DecideRequest(POINT, external_id, candidates=(lever,), activate=outcome != "deferred")
            )
            assert decision.lever == lever
            if isinstance(outcome, tuple):
                await offers.outcomes.record(OutcomeReport(decision.id, outcome[0], outcome[1]))
    # Campaigns are set by the campaign use case (another issue); here the column is set directly.
    async with services.sessions.begin() as session:
        ids = await _customer_ids(session, ["c-1", "c-5"])
        await session.execute(update(Decision).where(Decision.customer_id.in_(ids)).values(campaign_id=CAMPAIGN))
    async with services.sessions() as session:
        rows = (await session.execute(
            select(Customer.external_id, CustomerScores.value_tier).outerjoin(CustomerScores, CustomerScores.customer_id == Customer.id)
        )).all()
    return HandLog(tiers={external_id: tier or "BRONZE" for external_id, tier in rows})


async def _customer_ids(session: Any, external_ids: list[str]) -> list[int]:
    return list((await session.scalars(select(Customer.id).where(Customer.external_id.in_(external_ids)))).all())
