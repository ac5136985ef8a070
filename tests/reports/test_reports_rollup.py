"""The lever reports read the rollup of settled decisions plus the live rest of the log: every
report, with every filter, must equal the same report read from the log alone, whenever the
rollup was refreshed and whatever was logged, activated or answered since."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, exists, func, select

from db.models import Customer, Decision, LeverCustomerSums, LeverDaySums, LeverRollupMark, LeverUnactivatedDecision, Outcome
from services.container import Services
from services.offers.values import DecideRequest, OutcomeReport
from services.reports.rollup import LeverRollup, RollupRefresher
from services.reports.values import ReportFilter
from tests.reports.hand_log import POINT

AT = datetime(2026, 10, 7, 5, tzinfo=UTC)
FILTERS = (
    ReportFilter(),
    ReportFilter(campaign_id=7),
    ReportFilter(start=AT, end=datetime(2026, 10, 13, 10, 30, tzinfo=UTC)),  # partial days at both ends
    ReportFilter(start=datetime(2026, 10, 11, tzinfo=UTC)),  # whole days only
    ReportFilter(end=datetime(2026, 10, 12, 10, 1, tzinfo=UTC), campaign_id=7),
    ReportFilter(start=datetime(2026, 10, 12, 9, tzinfo=UTC), end=datetime(2026, 10, 12, 11, tzinfo=UTC)),  # within a day
    ReportFilter(segment_key="vip"),
    ReportFilter(stage="ACQUISITION", campaign_id=7),
    ReportFilter(value_tier="BRONZE"),
    ReportFilter(start=AT, segment_key="vip"),  # a time range and a customer filter: the log alone
)
DIMENSIONS = ("SEGMENT", "STAGE", "VALUE_TIER", "CHURN_REASON", "CAMPAIGN")


async def every_report(services: Services) -> dict[str, Any]:
    reports = services.lever_reports
    found: dict[str, Any] = {}
    for index, scope in enumerate(FILTERS):
        found[f"performance {index}"] = await reports.performance(POINT, scope)
        for interval in ("DAY", "WEEK"):
            found[f"timeline {interval} {index}"] = await reports.timeline(POINT, interval, scope)
    for dimension in DIMENSIONS:
        for index in (0, 1, 3):
            found[f"by {dimension} {index}"] = await reports.performance_by(POINT, dimension, FILTERS[index])
    return found


async def from_the_log_alone(services: Services) -> dict[str, Any]:
    """The reports with the rollup emptied (they then read every decision live); it is restored by
    the next refreshes, from zero."""
    async with services.sessions.begin() as session:
        for model in (LeverUnactivatedDecision, LeverCustomerSums, LeverDaySums, LeverRollupMark):
            await session.execute(delete(model))
    return await every_report(services)


async def refresh(services: Services) -> None:
    # PostgreSQL moves to the ids seen on the previous run: twice reaches the newest.
    await services.lever_rollup.refresh()
    await services.lever_rollup.refresh()


async def rolled_up(services: Services) -> tuple[int, int, int]:
    """(decisions, outcomes) in the rollup per day, and the decisions it saw unactivated."""
    async with services.sessions() as session:
        decisions, outcomes = (await session.execute(
            select(func.coalesce(func.sum(LeverDaySums.decisions), 0), func.coalesce(func.sum(LeverDaySums.outcomes), 0))
        )).one()
        waiting = await session.scalar(select(func.count()).select_from(LeverUnactivatedDecision))
    return int(decisions), int(outcomes), int(waiting or 0)


async def test_reports_over_the_rollup_equal_the_log_alone_before_and_after_new_activity(services, hand_log) -> None:
    await hand_log()
    truth = await every_report(services)
    await refresh(services)
    # 14 decisions, 12 with an outcome; c-3's deferred one is not activated.
    assert await rolled_up(services) == (14, 12, 1)
    assert await every_report(services) == truth

    offers = services.offers
    async with services.sessions() as session:
        unanswered = select(Decision.lever_key, Decision.id).where(~exists().where(Outcome.decision_id == Decision.id))
        open_ids = dict((await session.execute(unanswered)).all())
        assert set(open_ids) == {"DISCOUNT_10", "FREE_SHIPPING"}  # c-2's pending one, c-3's deferred one
        first = await session.scalar(select(func.min(Decision.id)))
    moment = datetime(2026, 10, 13, 10, 20, tzinfo=UTC)
    offers.decisions.clock = offers.outcomes.clock = lambda: moment
    # An activated decision answered, the unactivated one activated, a settled one's customer moved to a segment,
    # and new decisions above the watermark, answered or not.
    await offers.outcomes.record(OutcomeReport(open_ids["DISCOUNT_10"], True, 70.0))
    await offers.decisions.activate(open_ids["FREE_SHIPPING"])
    assert not (await services.segments.change_members("vip", ["c-4"], add=True)).errors
    new = await offers.decisions.decide(DecideRequest(POINT, "c-4", candidates=("PERSONAL_CALL",)))
    await offers.outcomes.record(OutcomeReport(new.id, True, 25.0))
    await offers.decisions.decide(DecideRequest(POINT, "c-6", candidates=("NO_ACTION",)))
    assert first is not None and new.id > first

    current = await every_report(services)
    assert current != truth
    await refresh(services)  # from the watermarks it had
    assert await rolled_up(services) == (16, 14, 0)
    assert await every_report(services) == current
    assert current == await from_the_log_alone(services)
    await refresh(services)  # from zero
    assert await rolled_up(services) == (16, 14, 0)

    later = moment + timedelta(hours=1)
    offers.decisions.clock = offers.outcomes.clock = lambda: later
    await offers.outcomes.record(OutcomeReport(open_ids["FREE_SHIPPING"], False, None))
    assert await every_report(services) == await from_the_log_alone(services)


# SQLite has one writer: every id a refresh sees there is final, so only PostgreSQL waits.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_refresh_waits_for_transactions_that_were_open_when_it_saw_the_newest_ids(services, hand_log) -> None:
    assert services.engine.dialect.name == "postgresql"
    await hand_log()
    async with services.sessions() as other:
        await other.execute(select(1))  # a transaction open from before the first refresh
        await refresh(services)
        assert await rolled_up(services) == (0, 0, 0)
    await services.lever_rollup.refresh()
    assert await rolled_up(services) == (14, 12, 1)


async def test_a_refresh_in_batches_of_a_few_decisions_builds_the_same_rollup(services, hand_log) -> None:
    await hand_log()
    truth = await every_report(services)
    small = LeverRollup(services.sessions, batch=3)
    await small.refresh()
    await small.refresh()
    assert await rolled_up(services) == (14, 12, 1)
    assert await every_report(services) == truth


def test_batches_and_intervals_must_be_positive(services) -> None:
    with pytest.raises(ValueError, match="`batch` must be >= 1, got 0"):
        LeverRollup(services.sessions, batch=0)
    with pytest.raises(ValueError, match="`interval` must be > 0, got 0"):
        RollupRefresher(services.lever_rollup, interval=0)


async def counted_in_the_log(services: Services) -> dict[str, dict[str, tuple[int, int, int, int, float]]]:
    """Per lever and per (stage, lever): decisions, activated, outcomes, accepted and revenue,
    counted in Python from the decision and outcome rows (an oracle independent of the reports)."""
    rows = select(Decision.lever_key, Customer.stage, Decision.activated_at, Outcome.id, Outcome.accepted, Outcome.revenue)
    rows = rows.join(Customer, Customer.id == Decision.customer_id).outerjoin(Outcome, Outcome.decision_id == Decision.id)
    found: dict[str, dict[str, list[float]]] = {"lever": {}, "stage": {}}
    async with services.sessions() as session:
        for lever, stage, activated, outcome, accepted, revenue in (await session.execute(rows)).all():
            for kind, key in (("lever", lever), ("stage", f"{stage}/{lever}")):
                sums = found[kind].setdefault(key, [0, 0, 0, 0, 0.0])
                earned = (revenue or 0.0) if accepted else 0.0
                for index, value in enumerate((1, activated is not None, outcome is not None, bool(accepted), earned)):
                    sums[index] += value
    return {kind: {key: tuple(values) for key, values in sums.items()} for kind, sums in found.items()}  # type: ignore[misc]


async def counted_by_the_reports(services: Services) -> dict[str, dict[str, tuple[int, int, int, int, float]]]:
    reports = services.lever_reports
    lever = {p.lever: (p.decisions, p.activated, p.outcomes, p.accepted, p.revenue)
             for p in await reports.performance(POINT) if p.decisions}
    stage = {f"{g.group}/{p.lever}": (p.decisions, p.activated, p.outcomes, p.accepted, p.revenue)
             for g in await reports.performance_by(POINT, "STAGE") for p in g.levers}
    return {"lever": lever, "stage": stage}


@pytest.mark.parametrize("seed", [3, 4])
async def test_random_decisions_outcomes_activations_and_refreshes_keep_the_reports_equal_to_the_log(
    services, hand_log, seed
) -> None:
    await hand_log()
    rng = random.Random(seed)
    offers = services.offers
    customers = [f"c-{i}" for i in range(1, 7)]
    levers = ["DISCOUNT_10", "FREE_SHIPPING", "PERSONAL_CALL", "NO_ACTION"]
    unanswered: list[int] = []
    unactivated: list[int] = []
    refreshes = 0
    for step in range(40):
        moment = datetime(2026, 10, 15, tzinfo=UTC) + timedelta(hours=step)
        offers.decisions.clock = offers.outcomes.clock = lambda moment=moment: moment
        action = rng.choice(["decide", "decide", "answer", "activate", "refresh", "segment"])
        if action == "decide":
            activate = rng.random() < 0.7
            made = await offers.decisions.decide(
                DecideRequest(POINT, rng.choice(customers), candidates=(rng.choice(levers),), activate=activate)
            )
            (unanswered if activate else unactivated).append(made.id)
        elif action == "answer" and unanswered:
            decision_id = unanswered.pop(rng.randrange(len(unanswered)))
            accepted = rng.random() < 0.5
            await offers.outcomes.record(OutcomeReport(decision_id, accepted, rng.choice([5.0, 12.5, 40.0]) if accepted else None))
        elif action == "activate" and unactivated:
            decision_id = unactivated.pop(rng.randrange(len(unactivated)))
            await offers.decisions.activate(decision_id)
            unanswered.append(decision_id)
        elif action == "refresh":
            refreshes += await services.lever_rollup.refresh()
        elif action == "segment":
            assert not (await services.segments.change_members("vip", [rng.choice(customers)], add=rng.random() < 0.5)).errors
        assert await counted_by_the_reports(services) == await counted_in_the_log(services), (step, action)
    assert refreshes > 0  # the rollup was read from, not only the log


async def test_the_server_refresher_waits_for_a_pause_in_the_writes(services, hand_log) -> None:
    """On SQLite a refresh step holds the one write lock, so the server's refresher lets request
    writes go first: it waits until the write gate has been free for ``quiet`` seconds. PostgreSQL
    has no gate, and refreshes at once."""
    await hand_log()
    gate = services.lever_rollup.write_gate
    refresher = RollupRefresher(services.lever_rollup, quiet=0.3, max_defer=30)
    async with gate.held():
        pass  # a write just ended
    started = time.monotonic()
    moved = await refresher.refresh()
    waited = time.monotonic() - started
    if services.engine.dialect.name == "postgresql":
        moved = await refresher.refresh()  # PostgreSQL moves to the ids its previous run saw
    assert moved == 1
    assert await rolled_up(services) == (14, 12, 1)
    if services.engine.dialect.name == "sqlite":
        assert refresher.deferred >= 0.25 and waited >= 0.25
    else:
        assert refresher.deferred == 0


async def test_the_refresher_waits_no_longer_than_max_defer_under_steady_writes(services, hand_log) -> None:
    await hand_log()
    gate = services.lever_rollup.write_gate
    stop = asyncio.Event()

    async def steady_writes() -> None:  # the gate is never free for 0.2 s
        while not stop.is_set():
            async with gate.held():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)

    writer = asyncio.create_task(steady_writes())
    try:
        refresher = RollupRefresher(services.lever_rollup, quiet=0.2, max_defer=0.5)
        started = time.monotonic()
        moved = await refresher.refresh()
        assert time.monotonic() - started < 5
        if services.engine.dialect.name == "postgresql":
            moved = await refresher.refresh()
        assert moved == 1
        assert await rolled_up(services) == (14, 12, 1)
        if services.engine.dialect.name == "sqlite":
            assert 0.4 <= refresher.deferred <= 0.6
    finally:
        stop.set()
        await writer
