"""Outcomes: recording them exactly once, default rewards for expired windows, lever statistics."""

from __future__ import annotations

import math
from types import SimpleNamespace
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import offers as repo
from db.repositories import outcomes as outcome_repo
from db.base import utcnow
from services.coalesce import Coalescer, window_seconds
from services.domain import ItemError
from services.errors import InvalidInput, ServiceError
from services.offers import mapping
from services.offers.errors import DecisionNotActive, OutcomeConflict, UnknownDecision, UnknownDecisionPoint
from services.offers.gate import WriteGate
from services.offers.registry import ModelRegistry
from services.offers.rewards import reward_of
from services.offers.values import BulkOutcomes, LeverStats, Outcome, OutcomeReport

MAX_BATCH = 10_000
KEY_MAX = 128
COALESCE_MAX = 256  # concurrent recordOutcome calls written by one transaction



def check_report(report: OutcomeReport) -> None:
    if report.revenue is not None and (not math.isfinite(report.revenue) or report.revenue < 0):
        raise InvalidInput("revenue", f"must be a finite number >= 0, got {report.revenue}")
    if report.idempotency_key is not None and not 1 <= len(report.idempotency_key) <= KEY_MAX:
        raise InvalidInput("idempotencyKey", f"must be 1-{KEY_MAX} characters")


def _same(stored: Outcome, report: OutcomeReport) -> bool:
    """A retry of the stored outcome, as opposed to a different claim about the same decision."""
    if stored.source != "REPORTED":
        return False
    if stored.idempotency_key is not None and stored.idempotency_key == report.idempotency_key:
        return True
    return stored.accepted == report.accepted and (stored.revenue or 0.0) == (report.revenue or 0.0)


class Outcomes:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        registry: ModelRegistry,
        clock: Callable[[], datetime] = utcnow,
        gate: WriteGate | None = None,
    ) -> None:
        self._sessions = sessionmaker
        self.registry = registry
        self.clock = clock
        self.gate = gate or WriteGate(sessionmaker)
        self.coalescer: Coalescer[OutcomeReport, Outcome] = Coalescer(self._write_together, max_batch=COALESCE_MAX, window=window_seconds())

    async def _write_together(self, _key: Hashable, reports: Sequence[OutcomeReport]) -> list[Outcome | ServiceError]:
        return await self._write(reports)

    async def record(self, report: OutcomeReport) -> Outcome:
        """Store the outcome of an activated decision, exactly once.

        A retry (same payload or same idempotency key) returns the stored outcome; a different
        outcome for the same decision raises ``OutcomeConflict`` and the stored one stands. An
        outcome after the reward window is stored as late and never learned. Concurrent calls
        are written together, in one transaction (see ``services.coalesce``), in arrival order.
        """
        check_report(report)
        return await self.coalescer.submit(None, report)

    async def record_many(self, reports: Sequence[OutcomeReport]) -> BulkOutcomes:
        """``record`` for up to 10,000 outcomes in one transaction; failures are reported by index."""
        if len(reports) > MAX_BATCH:
            raise InvalidInput("input", f"at most {MAX_BATCH:,} outcomes per call, got {len(reports):,}")
        stored: list[Outcome] = []
        errors: list[ItemError] = []
        for index, item in enumerate(await self._write(reports)):
            if isinstance(item, Outcome):
                stored.append(item)
            else:
                field = item.field if isinstance(item, InvalidInput) else "decisionId"
                errors.append(ItemError(index, field, item.message))
        return BulkOutcomes(tuple(stored), tuple(errors))

    async def _write(self, reports: Sequence[OutcomeReport]) -> list[Outcome | ServiceError]:
        now = self.clock()
        results: list[Outcome | ServiceError | None] = [None] * len(reports)
        pending: dict[int, int] = {}  # decision id -> index of its first report in this call
        for index, report in enumerate(reports):
            try:
                check_report(report)
            except InvalidInput as exc:
                results[index] = exc
                continue
            pending.setdefault(report.decision_id, index)
        # One connection: the reads first, outside the write gate; only the lock, the insert and
        # the read-back of outcomes stored before this call queue behind other writers.
        async with self._sessions() as session:
            decisions = {row.id: row for row in await repo.decision_heads(session, list(pending))}
            points, levers = await self._config(session, {d.decision_point_id for d in decisions.values()}, {d.lever_key for d in decisions.values()})
            rows: list[dict[str, Any]] = []
            for decision_id, index in pending.items():
                decision = decisions.get(decision_id)
                if decision is None:
                    results[index] = UnknownDecision(decision_id)
                elif decision.activated_at is None:
                    results[index] = DecisionNotActive(decision_id)
                else:
                    report = reports[index]
                    point = points[decision.decision_point_id]
                    rows.append(
                        {
                            "decision_id": decision_id,
                            "decision_point_id": point.id,
                            "accepted": report.accepted,
                            "revenue": None if report.revenue is None else float(report.revenue),
                            "reward": float(reward_of(point.reward, levers.get(decision.lever_key), report.accepted, report.revenue)),
                            "late": decision.window_ends_at is not None and now > decision.window_ends_at,
                            "source": "REPORTED",
                            "idempotency_key": report.idempotency_key,
                            "created_at": now,
                        }
                    )
            stored: dict[int, Outcome] = {}
            if rows:
                async with self.gate.writing(session):
                    # Outcome ids must commit in id order per decision point: see services.offers.registry.
                    await repo.lock_decision_points(session, [row["decision_point_id"] for row in rows])
                    inserted = await outcome_repo.insert_outcomes(session, rows)
                    for row in rows:
                        if row["decision_id"] in inserted:  # written now: no need to read it back
                            stored[row["decision_id"]] = mapping.outcome(SimpleNamespace(**row, id=inserted[row["decision_id"]]))
                    earlier = [row["decision_id"] for row in rows if row["decision_id"] not in inserted]
                    if earlier:  # decisions that already had an outcome: judge the reports against it
                        stored.update((r.decision_id, mapping.outcome(r)) for r in await outcome_repo.by_decisions(session, earlier))
        for decision_id, index in pending.items():
            if results[index] is None:
                results[index] = stored[decision_id]
        # Every report, first or repeated, is judged against what is stored now.
        final: list[Outcome | ServiceError] = []
        for index, report in enumerate(reports):
            item = results[pending.get(report.decision_id, index)] if results[index] is None else results[index]
            if isinstance(item, Outcome) and not _same(item, report):
                item = OutcomeConflict(item)
            assert item is not None
            final.append(item)
        if rows:
            self.registry.nudge()
        return final

    async def _config(self, session: AsyncSession, point_ids: set[int], lever_keys: set[str]) -> tuple[dict[int, Any], dict[str, Any]]:
        """The decision points and levers that price the outcomes: the registry's copies while
        they are fresh (as for decide), else read here."""
        points = {pid: self.registry.cached_point(pid) for pid in point_ids}
        levers = self.registry.cached_levers(sorted(lever_keys))
        for pid in [pid for pid, point in points.items() if point is None]:
            row = await repo.decision_point_by_id(session, pid)
            assert row is not None
            points[pid] = mapping.decision_point(row)
        if levers is None:
            levers = {lever.key: mapping.lever(lever) for lever in await repo.all_levers(session)}
        return points, levers

    async def expire(self) -> int:
        """Give every activated decision whose reward window ended without an outcome its decision
        point's default reward (source DEFAULT, not accepted). Safe to run anywhere, any number of
        times, concurrently: the unique decision id keeps one outcome per decision."""
        now = self.clock()
        async with self._sessions() as session:
            points = [mapping.decision_point(row) for row in await repo.all_decision_points(session)]
        total = 0
        for point in points:
            async with self.gate.begin() as session:
                await repo.lock_decision_points(session, [point.id])
                total += await outcome_repo.expire(session, point.id, point.default_reward, now)
        if total:
            self.registry.nudge()
        return total

    async def of_decisions(self, decision_ids: Sequence[int]) -> dict[int, Outcome]:
        async with self._sessions() as session:
            rows = await outcome_repo.by_decisions(session, decision_ids)
        return {row.decision_id: mapping.outcome(row) for row in rows}

    async def lever_stats(self, point_key: str, since: datetime | None = None) -> list[LeverStats]:
        """Per configured lever (and any lever still in the log): decisions, activated, outcomes, revenue.

        Outcomes exist only for activated decisions, so deferred decisions never count in them."""
        async with self._sessions() as session:
            row = await repo.decision_point(session, point_key)
            if row is None:
                raise UnknownDecisionPoint(point_key)
            point = mapping.decision_point(row)
            found = {r[0]: r for r in await outcome_repo.lever_stats(session, point.id, since)}
        levers = list(point.levers) + sorted(k for k in found if k not in point.levers)
        stats = []
        for lever in levers:
            r = found.get(lever)
            if r is None:
                stats.append(LeverStats(lever, 0, 0, 0, 0, 0.0, 0.0, 0, 0))
            else:
                counts = [int(v) for v in (r[1], r[2], r[3], r[4])]
                stats.append(LeverStats(lever, *counts, float(r[5]), float(r[6]), int(r[7]), int(r[8])))
        return stats
