"""Concurrent decide and recordOutcome calls answered together (services.coalesce), on both databases.

Each caller must get exactly what it would have got alone: its own decision or its own typed
error, one log row per decision, a request id replayed rather than logged twice."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from db.models import Decision as DecisionRow
from db.models import Outcome as OutcomeRow
from services.container import Services
from services.errors import CustomerNotFound
from services.offers.errors import InvalidContext, NoEligibleLever, OutcomeConflict, UnknownDecision
from services.offers.values import DecideRequest, Decision, Outcome, OutcomeReport


async def count(services: Services, model: type) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def request(external_id: str, **fields) -> DecideRequest:
    return DecideRequest("RETENTION", external_id, context=fields.pop("context", {"channel": "web"}), **fields)


async def test_concurrent_decides_are_logged_once_each_in_fewer_batches(services: Services, configure, make_customer) -> None:
    for i in range(24):
        await make_customer(external_id=f"t-{i}", attributes={"price_sensitive": i % 2 == 0})
    await configure()
    decisions = services.offers.decisions
    before = decisions.coalescer.batches
    found = await asyncio.gather(*(decisions.decide(request(f"t-{i}")) for i in range(24)))
    assert all(isinstance(d, Decision) and 0 < d.propensity <= 1 for d in found)
    assert [d.customer_id for d in found] == sorted(d.customer_id for d in found)  # each caller its own customer
    assert len({d.id for d in found}) == 24
    assert await count(services, DecisionRow) == 24
    assert decisions.coalescer.batches - before < 24  # answered together, not one by one


async def test_one_batch_keeps_every_callers_own_answer(services: Services, configure, make_customer) -> None:
    for i in range(4):
        await make_customer(external_id=f"m-{i}")
    await configure(features=("valueTier", "context.channel", "context.cart"),
                    context_examples=({"channel": "web", "cart": 10.0}, {"channel": "app", "cart": 30.0}))
    decisions = services.offers.decisions
    calls = [
        request("m-0"),
        request("nobody"),
        request("m-0"),  # the same customer twice: decided twice, in turn
        request("m-1", request_id="same"),
        request("m-1", request_id="same"),  # a retry in the same batch: the same decision
        request("m-2", candidates=("NO_ACTION",)),
        request("m-3", context={"channel": "web", "cart": "ten"}),  # a string where a number belongs
        request("m-3", candidates=("TELEPATHY",)),
    ]
    before = decisions.coalescer.batches
    results = await asyncio.gather(*(decisions.decide(c) for c in calls), return_exceptions=True)
    assert decisions.coalescer.batches - before == 1  # all of them in one batch
    first, nobody, again, retry_a, retry_b, control, bad, none = results
    assert isinstance(first, Decision) and isinstance(again, Decision) and first.id != again.id
    assert isinstance(nobody, CustomerNotFound) and nobody.external_id == "nobody"
    assert isinstance(retry_a, Decision) and isinstance(retry_b, Decision) and retry_a.id == retry_b.id
    assert isinstance(control, Decision) and control.lever == "NO_ACTION" and control.propensity == 1.0
    assert isinstance(none, NoEligibleLever)
    assert isinstance(bad, InvalidContext) and bad.key == "context.cart"
    assert await count(services, DecisionRow) == 4


async def test_concurrent_outcomes_are_stored_once_and_judged_in_arrival_order(services: Services, configure, make_customer) -> None:
    for i in range(6):
        await make_customer(external_id=f"o-{i}")
    await configure()
    made = [await services.offers.decisions.decide(request(f"o-{i}")) for i in range(6)]
    outcomes = services.offers.outcomes
    reports = [OutcomeReport(d.id, accepted=True, revenue=10.0) for d in made]
    reports += [OutcomeReport(made[0].id, accepted=True, revenue=10.0)]  # a retry: the stored outcome
    reports += [OutcomeReport(made[1].id, accepted=False)]  # a different claim: a conflict
    reports += [OutcomeReport(999_999, accepted=True)]
    results = await asyncio.gather(*(outcomes.record(r) for r in reports), return_exceptions=True)
    assert all(isinstance(r, Outcome) for r in results[:7])
    assert results[6].id == results[0].id
    assert isinstance(results[7], OutcomeConflict)
    assert isinstance(results[8], UnknownDecision)
    assert await count(services, OutcomeRow) == 6


async def test_a_fresh_decision_carries_the_lever_it_was_made_with(services: Services, configure, make_customer) -> None:
    """The answer to decide names the lever's catalogue entry without another read; a replay read
    back from the log does not carry it, and is still the same decision."""
    await make_customer(external_id="l-1")
    await configure()
    decisions = services.offers.decisions
    made = await decisions.decide(request("l-1", request_id="lever-1"))
    assert made.served is not None and made.served.key == made.lever
    catalogue = {lever.key: lever for lever in await services.offers.catalog.levers()}
    assert made.served == catalogue[made.lever]
    replay = await decisions.decide(request("l-1", request_id="lever-1"))
    assert replay.served is None and replay == made


async def test_a_recorded_outcome_is_answered_as_it_is_stored(services: Services, configure, make_customer) -> None:
    """A fresh outcome is answered from the row just written (no read-back): it must equal what a
    later read returns, field by field, including an integer revenue and the late flag."""
    for i in range(3):
        await make_customer(external_id=f"s-{i}")
    await configure()
    made = [await services.offers.decisions.decide(request(f"s-{i}")) for i in range(3)]
    outcomes = services.offers.outcomes
    reports = [OutcomeReport(made[0].id, accepted=True, revenue=20), OutcomeReport(made[1].id, accepted=False),
               OutcomeReport(made[2].id, accepted=True, revenue=12.5, idempotency_key="k-2")]
    answered = await asyncio.gather(*(outcomes.record(r) for r in reports))
    stored = await outcomes.of_decisions([d.id for d in made])
    for outcome in answered:
        assert outcome == stored[outcome.decision_id]
        assert type(outcome.reward) is float and (outcome.revenue is None or type(outcome.revenue) is float)
    retried = await outcomes.record(reports[0])  # read back this time: the same answer
    assert retried == answered[0]
