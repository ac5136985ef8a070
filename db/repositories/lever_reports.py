"""Aggregates over the decision log for the analysts' lever reports. They never commit.

Every statement groups in the database and returns one row per lever (and per period or group):
counts, and the sum and sum of squares of ``earned`` (an outcome's revenue when accepted, else 0),
never decision rows. A decision without an outcome (not activated, or its window still open) adds
0 to every sum and is not counted in ``outcomes``, the denominator of every rate.

Costs are not summed here: within one lever a decision's cost is linear in (accepted, earned), so
the service derives the cost and net-value sums exactly from these sums and the lever's cost model
(see services.reports.leaderboard). That keeps the levers table out of the 1M-row join.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, String, and_, case, cast, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name
from db.models import Customer, CustomerReason, CustomerScores, Decision, Outcome, Segment, SegmentMember

DIMENSIONS = ("SEGMENT", "STAGE", "VALUE_TIER", "CHURN_REASON", "CAMPAIGN")
INTERVALS = ("DAY", "WEEK")
NO_GROUP = "NONE"
ANALYTIC_WORK_MEM = "64MB"
DEFAULT_TIER = "BRONZE"  # customers without scores (prospects) are BRONZE, as in the lifecycle


@dataclass(frozen=True, slots=True)
class LogScope:
    """Which decisions of one decision point a report reads. ``start`` inclusive, ``end`` exclusive,
    both on the decision's creation time; customer filters use the customer's current state."""

    point_id: int
    start: datetime | None = None
    end: datetime | None = None
    segment_key: str | None = None
    stage: str | None = None
    value_tier: str | None = None
    campaign_id: int | None = None


def _earned() -> ColumnElement[float]:
    return case((Outcome.accepted, func.coalesce(Outcome.revenue, 0.0)), else_=0.0)


def _sums() -> list[Any]:
    """decisions, activated, outcomes, accepted, and the sum and sum of squares of earned."""
    earned = _earned()
    return [
        func.count(Decision.id).label("decisions"),
        func.count(Decision.activated_at).label("activated"),
        func.count(Outcome.id).label("outcomes"),
        func.coalesce(func.sum(case((Outcome.accepted, 1), else_=0)), 0).label("accepted"),
        func.coalesce(func.sum(earned), 0.0).label("revenue"),
        func.coalesce(func.sum(earned * earned), 0.0).label("revenue_sq"),
    ]


def _terms(scope: LogScope) -> list[ColumnElement[bool]]:
    terms: list[ColumnElement[bool]] = [Decision.decision_point_id == scope.point_id]
    if scope.start is not None:
        terms.append(Decision.created_at >= scope.start)
    if scope.end is not None:
        terms.append(Decision.created_at < scope.end)
    if scope.campaign_id is not None:
        terms.append(Decision.campaign_id == scope.campaign_id)
    if scope.segment_key is not None:
        members = (
            select(SegmentMember.customer_id)
            .join(Segment, Segment.id == SegmentMember.segment_id)
            .where(Segment.key == scope.segment_key)
        )
        terms.append(Decision.customer_id.in_(members))
    if scope.stage is not None:
        terms.append(Decision.customer_id.in_(select(Customer.id).where(Customer.stage == scope.stage)))
    if scope.value_tier is not None:
        tier = func.coalesce(CustomerScores.value_tier, literal(DEFAULT_TIER))
        tiered = select(Customer.id).outerjoin(CustomerScores, CustomerScores.customer_id == Customer.id)
        terms.append(Decision.customer_id.in_(tiered.where(tier == scope.value_tier)))
    return terms


def _logged(*columns: Any) -> Any:
    return select(*columns).select_from(Decision).outerjoin(Outcome, Outcome.decision_id == Decision.id)


async def lever_sums(session: AsyncSession, scope: LogScope) -> list[Row[Any]]:
    """One row per lever in the log: (lever_key, *sums)."""
    query = (
        _logged(Decision.lever_key, *_sums())
        .where(and_(*_terms(scope)))
        .group_by(Decision.lever_key)
        .order_by(Decision.lever_key)
    )
    return list((await session.execute(query)).all())


def _group_column(dimension: str) -> tuple[ColumnElement[Any], list[tuple[Any, Any]]]:
    """The grouping expression of a breakdown and the outer joins it needs."""
    if dimension == "STAGE":
        return Customer.stage, [(Customer, Customer.id == Decision.customer_id)]
    if dimension == "VALUE_TIER":
        tier = func.coalesce(CustomerScores.value_tier, literal(DEFAULT_TIER))
        return tier, [(CustomerScores, CustomerScores.customer_id == Decision.customer_id)]
    if dimension == "SEGMENT":
        key = func.coalesce(Segment.key, literal(NO_GROUP))
        return key, [
            (SegmentMember, SegmentMember.customer_id == Decision.customer_id),
            (Segment, Segment.id == SegmentMember.segment_id),
        ]
    if dimension == "CHURN_REASON":
        rank = func.row_number().over(
            partition_by=CustomerReason.customer_id, order_by=(CustomerReason.at.desc(), CustomerReason.id.desc())
        )
        ranked = (
            select(CustomerReason.customer_id, CustomerReason.code, rank.label("rank"))
            .where(CustomerReason.kind == "CHURN")
            .subquery()
        )
        latest = select(ranked.c.customer_id, ranked.c.code).where(ranked.c.rank == 1).subquery("latest_churn")
        return func.coalesce(latest.c.code, literal(NO_GROUP)), [(latest, latest.c.customer_id == Decision.customer_id)]
    if dimension == "CAMPAIGN":
        # Text, so that every dimension's groups share one type; NONE is "no campaign".
        return func.coalesce(cast(Decision.campaign_id, String), literal(NO_GROUP)), []
    raise ValueError(f"unknown dimension {dimension!r}")


async def lever_sums_by(session: AsyncSession, scope: LogScope, dimension: str) -> list[Row[Any]]:
    """One row per (group, lever): (grp, lever_key, *sums). A decision of a customer in several
    segments counts in each of them; customers in none (or with no churn reason) form group NONE."""
    group, joins = _group_column(dimension)
    query = _logged(group.label("grp"), Decision.lever_key, *_sums())
    for target, on in joins:
        query = query.outerjoin(target, on)
    query = query.where(and_(*_terms(scope))).group_by(group, Decision.lever_key).order_by(group, Decision.lever_key)
    return list((await session.execute(query)).all())


def period_start(column: Any, interval: str, dialect: str) -> ColumnElement[Any]:
    """The start of the UTC day, or of the ISO week (Monday), a timestamp falls in: 'YYYY-MM-DD'
    text on SQLite, a timestamp at midnight on PostgreSQL (formatting a million rows in SQL costs
    more than the grouping; ``period_date`` reads both)."""
    if interval not in INTERVALS:
        raise ValueError(f"unknown interval {interval!r}")
    if dialect == "sqlite":
        # Stored as UTC text. 'weekday 0' moves forward to Sunday (staying on a Sunday), -6 days to its Monday.
        return func.date(column) if interval == "DAY" else func.date(column, "weekday 0", "-6 days")
    unit = "day" if interval == "DAY" else "week"  # PostgreSQL weeks start on Monday
    return func.date_trunc(unit, func.timezone("UTC", column))


def period_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


async def analytic_settings(session: AsyncSession) -> None:
    """Give this transaction's joins room to hash a million-row log in memory on PostgreSQL (the
    default 4MB work_mem spills the outcomes hash to disk in 16 batches). SET LOCAL ends with the
    transaction."""
    if dialect_name(session) == "postgresql":
        await session.execute(text(f"SET LOCAL work_mem = '{ANALYTIC_WORK_MEM}'"))


async def timeline_sums(session: AsyncSession, scope: LogScope, interval: str) -> list[Row[Any]]:
    """One row per (period, lever): (period, lever_key, decisions, activated, outcomes, accepted, revenue)."""
    period = period_start(Decision.created_at, interval, dialect_name(session))
    sums = _sums()[:5]  # no squares: the timeline has no intervals
    query = (
        _logged(period.label("period"), Decision.lever_key, *sums)
        .where(and_(*_terms(scope)))
        .group_by(period, Decision.lever_key)
        .order_by(period, Decision.lever_key)
    )
    return list((await session.execute(query)).all())
