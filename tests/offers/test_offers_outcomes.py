"""recordOutcome exactly once, deferred activation, late outcomes, default rewards, leverStats."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import Outcome
from services.container import Services
from services.offers.rewards import reward_of
from services.offers.values import DecideRequest, Lever, OutcomeReport

RECORD = """
mutation($input: OutcomeInput!) {
  recordOutcome(input: $input) {
    __typename
    ... on Outcome { id decisionId accepted revenue reward late source }
    ... on UnknownDecision { id }
    ... on DecisionNotActive { id }
    ... on OutcomeConflict { stored { id accepted revenue } }
    ... on InvalidInput { field }
  }
}
"""

STATS = """
query($key: String!) {
  leverStats(decisionPoint: $key) {
    lever { key } decisions activated outcomes accepted acceptRate revenue reward lateOutcomes defaultOutcomes
  }
}
"""


async def record(gql: Any, decision_id: int | str, accepted: bool = True, revenue: float | None = 50.0, **more: Any) -> dict[str, Any]:
    payload = {"decisionId": str(decision_id), "accepted": accepted, "revenue": revenue, **more}
    return (await gql(RECORD, {"input": payload}))["recordOutcome"]


async def outcome_rows(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Outcome)) or 0)


async def served(services: Services, external_id: str = "c-1", **fields: Any) -> Any:
    return await services.offers.decisions.decide(DecideRequest("RETENTION", external_id, context={"channel": "web"}, **fields))


async def test_record_outcome_is_stored_once_and_retries_return_it(gql, services, configure, make_customer) -> None:
    await make_customer(external_id="c-1")
    await configure()
    decision = await served(services)
    first = await record(gql, decision.id)
    assert first["__typename"] == "Outcome" and first["reward"] == 1.0 and first["source"] == "REPORTED"
    assert await record(gql, decision.id) == first
    racing = await asyncio.gather(*(record(gql, decision.id) for _ in range(8)))
    assert {r["id"] for r in racing} == {first["id"]}
    conflict = await record(gql, decision.id, accepted=False, revenue=None)
    assert conflict == {"__typename": "OutcomeConflict", "stored": {"id": first["id"], "accepted": True, "revenue": 50.0}}
    assert await outcome_rows(services) == 1
    assert (await record(gql, 999_999))["__typename"] == "UnknownDecision"
    assert (await record(gql, "abc"))["__typename"] == "InvalidInput"
    assert (await record(gql, decision.id, revenue=-1.0))["field"] == "revenue"


async def test_concurrent_different_outcomes_keep_exactly_one(services, configure, make_customer) -> None:
    await make_customer(external_id="c-1")
    await configure()
    decision = await served(services)
    reports = [OutcomeReport(decision.id, i % 2 == 0, float(i)) for i in range(6)]
    results = await asyncio.gather(*(services.offers.outcomes.record(r) for r in reports), return_exceptions=True)
    stored = [r for r in results if not isinstance(r, Exception)]
    assert len({o.id for o in stored}) == 1 and len(stored) == 1
    assert await outcome_rows(services) == 1


async def test_deferred_decision_is_not_learned_nor_counted_until_activated(gql, services, configure, make_customer) -> None:
    await make_customer(external_id="c-1")
    point = await configure()
    decision = await served(services, activate=False)
    assert decision.activated_at is None
    assert (await record(gql, decision.id))["__typename"] == "DecisionNotActive"
    stats = (await gql(STATS, {"key": "RETENTION"}))["leverStats"]
    assert sum(s["activated"] for s in stats) == 0 and sum(s["decisions"] for s in stats) == 1
    assert await services.offers.sync() == 0
    activated = (await gql('mutation($id: ID!) { activateDecision(id: $id) { ... on Decision { activatedAt windowEndsAt } } }',
                           {"id": str(decision.id)}))["activateDecision"]
    assert activated["activatedAt"] is not None and activated["windowEndsAt"] is not None
    assert (await record(gql, decision.id))["__typename"] == "Outcome"
    assert await services.offers.sync() == 1
    assert services.offers.registry.loaded(point.id).learner.outcomes_applied == 1


async def test_late_outcome_is_stored_but_never_learned(gql, services, configure, make_customer) -> None:
    await make_customer(external_id="c-1")
    point = await configure(reward_window_hours=1.0)
    decision = await served(services)
    services.offers.outcomes.clock = lambda: datetime.now(UTC) + timedelta(hours=2)
    late = await record(gql, decision.id)
    assert late["late"] is True
    assert await services.offers.sync() == 0
    assert services.offers.registry.loaded(point.id).learner.outcomes_applied == 0
    stats = {s["lever"]["key"]: s for s in (await gql(STATS, {"key": "RETENTION"}))["leverStats"]}
    assert stats[decision.lever]["lateOutcomes"] == 1


async def test_expire_gives_ended_windows_the_default_reward_once(gql, services, configure, make_customer) -> None:
    for i in range(3):
        await make_customer(external_id=f"c-{i}")
    point = await configure(reward_window_hours=1.0, default_reward=-0.5)
    decisions = [await served(services, f"c-{i}") for i in range(3)]
    await record(gql, decisions[0].id)
    assert await services.offers.outcomes.expire() == 0  # windows still open
    services.offers.outcomes.clock = lambda: datetime.now(UTC) + timedelta(hours=2)
    assert await services.offers.outcomes.expire() == 2
    assert await services.offers.outcomes.expire() == 0
    stored = await services.offers.outcomes.of_decisions([d.id for d in decisions])
    assert [(stored[d.id].source, stored[d.id].reward, stored[d.id].accepted) for d in decisions[1:]] == [("DEFAULT", -0.5, False)] * 2
    assert await services.offers.sync() == 3
    assert services.offers.registry.loaded(point.id).learner.outcomes_applied == 3
    conflict = await record(gql, decisions[1].id)
    assert conflict["__typename"] == "OutcomeConflict"


async def test_lever_stats_sum_activated_decisions_and_outcomes(gql, services, configure, make_customer) -> None:
    for i in range(4):
        await make_customer(external_id=f"c-{i}")
    await configure(reward="REVENUE")
    decisions = [await services.offers.decisions.decide(DecideRequest("RETENTION", f"c-{i}", candidates=("FREE_SHIPPING",)))
                 for i in range(4)]
    await record(gql, decisions[0].id, True, 30.0)
    await record(gql, decisions[1].id, False, None)
    await record(gql, decisions[2].id, True, 10.0)
    stats = {s["lever"]["key"]: s for s in (await gql(STATS, {"key": "RETENTION"}))["leverStats"]}
    assert stats["FREE_SHIPPING"] == {
        "lever": {"key": "FREE_SHIPPING"}, "decisions": 4, "activated": 4, "outcomes": 3, "accepted": 2, "acceptRate": pytest.approx(2 / 3),
        "revenue": 40.0, "reward": 40.0, "lateOutcomes": 0, "defaultOutcomes": 0,
    }
    assert stats["NO_ACTION"]["decisions"] == 0
    unknown = await gql(STATS, {"key": "NOPE"}, expect_errors=True)
    assert "no decision point with key 'NOPE'" in unknown.errors[0].message


def test_rewards_follow_the_decision_points_definition() -> None:
    discount = Lever("D10", "10% off", discount_percent=10, unit_cost=2, contact_cost=1)
    assert reward_of("ACCEPTED", discount, True, 100.0) == 1.0
    assert reward_of("ACCEPTED", discount, False, 100.0) == 0.0
    assert reward_of("REVENUE", discount, True, 100.0) == 100.0
    assert reward_of("REVENUE", discount, False, 100.0) == 0.0
    assert reward_of("NET_VALUE", discount, True, 100.0) == pytest.approx(100 - 10 - 2 - 1)
    assert reward_of("NET_VALUE", discount, False, None) == -1.0
