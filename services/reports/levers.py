"""Lever reports for analysts: the leaderboard, its breakdowns by customer group, the timeline."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import lever_reports as repo
from db.repositories import offers as offer_repo
from db.repositories import segments as segment_repo
from services.errors import InvalidInput
from services.offers import mapping
from services.offers.errors import UnknownDecisionPoint
from services.offers.values import Lever
from services.reports.leaderboard import LeverSums, leaderboard
from services.reports.values import GroupPerformance, LeverPerformance, ReportFilter, TimelinePoint

DIMENSIONS = repo.DIMENSIONS
INTERVALS = repo.INTERVALS


class LeverReports:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessionmaker

    async def performance(self, point_key: str, scope: ReportFilter = ReportFilter(), *, seed: int = 0) -> list[LeverPerformance]:
        """The leaderboard of a decision point: every configured lever (zeros when unused) and any
        other lever found in the log, with 95% intervals, uplift against the NO_ACTION control and
        the probability of the highest accept rate (posterior Monte Carlo seeded with ``seed``)."""
        async with self._sessions() as session:
            log_scope, configured = await self._scope(session, point_key, scope)
            rows = await repo.lever_sums(session, log_scope)
            levers = await self._levers(session, [*configured, *(row.lever_key for row in rows)])
        found = {row.lever_key: row for row in rows}
        keys = list(configured) + [row.lever_key for row in rows if row.lever_key not in set(configured)]
        sums = [
            LeverSums.from_row(found[key], levers.get(key)) if key in found else LeverSums(key, _kind(levers.get(key)))
            for key in keys
        ]
        return leaderboard(sums, seed=seed)

    async def performance_by(
        self, point_key: str, dimension: str, scope: ReportFilter = ReportFilter(), *, seed: int = 0
    ) -> list[GroupPerformance]:
        """The leaderboard per customer group (by the customer's current segment, stage, value tier
        or latest churn reason, or by the decision's campaign). Each group has its own control and
        probabilityBest; only levers logged in the group appear in it."""
        if dimension not in DIMENSIONS:
            raise InvalidInput("dimension", f"must be one of {', '.join(DIMENSIONS)}, got {dimension!r}")
        async with self._sessions() as session:
            log_scope, _ = await self._scope(session, point_key, scope)
            rows = await repo.lever_sums_by(session, log_scope, dimension)
            levers = await self._levers(session, [row.lever_key for row in rows])
        groups: dict[str, list[LeverSums]] = defaultdict(list)
        for row in rows:
            groups[str(row.grp)].append(LeverSums.from_row(row, levers.get(row.lever_key)))
        return [GroupPerformance(group, tuple(leaderboard(sums, seed=seed))) for group, sums in groups.items()]

    async def timeline(self, point_key: str, interval: str, scope: ReportFilter = ReportFilter()) -> list[TimelinePoint]:
        """Per period (UTC day, or ISO week from Monday) and lever: decisions, activated, allocation
        share (the lever's activated decisions over all activated ones in the period), outcomes,
        accept rate and revenue. Every lever seen in the range has a row in every period."""
        if interval not in INTERVALS:
            raise InvalidInput("interval", f"must be one of {', '.join(INTERVALS)}, got {interval!r}")
        async with self._sessions() as session:
            log_scope, _ = await self._scope(session, point_key, scope)
            rows = await repo.timeline_sums(session, log_scope, interval)
        levers = sorted({row.lever_key for row in rows})
        cells = {(repo.period_date(row.period), row.lever_key): row for row in rows}
        periods = sorted({period for period, _ in cells})
        points: list[TimelinePoint] = []
        for period in periods:
            active = sum(int(cells[(period, lever)].activated) for lever in levers if (period, lever) in cells)
            for lever in levers:
                row = cells.get((period, lever))
                decisions, activated, outcomes, accepted, revenue = (
                    (int(row.decisions), int(row.activated), int(row.outcomes), int(row.accepted), float(row.revenue))
                    if row is not None else (0, 0, 0, 0, 0.0)
                )
                points.append(
                    TimelinePoint(
                        period=period, lever=lever, decisions=decisions, activated=activated,
                        allocation_share=activated / active if active else None, outcomes=outcomes, accepted=accepted,
                        accept_rate=accepted / outcomes if outcomes else None, revenue=revenue,
                    )
                )
        return points

    async def _levers(self, session: AsyncSession, keys: list[str]) -> dict[str, Lever]:
        """The levers' current kind and cost model (the reports price every decision by it)."""
        return {row.key: mapping.lever(row) for row in await offer_repo.levers_by_keys(session, sorted(set(keys)))}

    async def _scope(self, session: AsyncSession, point_key: str, scope: ReportFilter) -> tuple[repo.LogScope, tuple[str, ...]]:
        await repo.analytic_settings(session)
        row = await offer_repo.decision_point(session, point_key)
        if row is None:
            raise UnknownDecisionPoint(point_key)
        if scope.start is not None and scope.end is not None and scope.start >= scope.end:
            raise InvalidInput("to", f"must be after from ({scope.start.isoformat()}), got {scope.end.isoformat()}")
        if scope.segment_key is not None:
            if await segment_repo.by_key(session, scope.segment_key) is None:
                raise InvalidInput("segmentKey", f"no segment with key {scope.segment_key!r}")
        point = mapping.decision_point(row)
        log_scope = repo.LogScope(
            point.id, scope.start, scope.end, scope.segment_key, scope.stage, scope.value_tier, scope.campaign_id
        )
        return log_scope, point.levers


def _kind(lever: Lever | None) -> str | None:
    return lever.kind if lever else None
