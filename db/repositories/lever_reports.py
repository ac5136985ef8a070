"""Aggregates over the decision log for the analysts' lever reports. They never commit.

Every statement groups in the database and returns one row per lever (and per period or group):
counts, and the sum and sum of squares of ``earned`` (an outcome's revenue when accepted, else 0),
never decision rows. A decision without an outcome (not activated, or its window still open) adds
0 to every sum and is not counted in ``outcomes``, the denominator of every rate.

The sums come from the rollup of settled decisions plus the live rest of the log (see
db.repositories.lever_facts), read in one snapshot (``analytic_settings``): per UTC day when no
customer filter or group is asked for, per customer when no time range is; a report that needs
both reads the log itself. Whole days of a time range come from the rollup, the partial days at
its ends from the log.

Costs are not summed here: within one lever a decision's cost is linear in (accepted, earned), so
the service derives the cost and net-value sums exactly from these sums and the lever's cost model
(see services.reports.leaderboard). That keeps the levers table out of the 1M-row join.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import DateTime, ColumnElement, Row, String, Subquery, cast, func, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name
from db.models import Customer, CustomerReason, CustomerScores, Segment, SegmentMember
from db.repositories import lever_facts as facts
from db.repositories.lever_facts import DEFAULT_TIER, LogScope
from db.repositories.lever_rollup import SUMS, Watermark, marks

__all__ = ["DEFAULT_TIER", "DIMENSIONS", "INTERVALS", "LogScope", "lever_sums", "lever_sums_by", "timeline_sums"]

DIMENSIONS = ("SEGMENT", "STAGE", "VALUE_TIER", "CHURN_REASON", "CAMPAIGN")
CUSTOMER_DIMENSIONS = ("SEGMENT", "STAGE", "VALUE_TIER", "CHURN_REASON")
INTERVALS = ("DAY", "WEEK")
NO_GROUP = "NONE"
ANALYTIC_WORK_MEM = "64MB"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _since(
    scope: LogScope, keys: tuple[str, ...], dialect: str, start: datetime | None, end: datetime | None, done: Watermark
) -> list[Any]:
    """What was logged, answered and activated since the rollup's watermarks, in [start, end)."""
    return [facts.live(scope, keys, dialect, start, end, done.decision_id),
            facts.answered_since(scope, keys, dialect, start, end, done),
            facts.activated_since(scope, keys, dialect, start, end)]


async def _facts(session: AsyncSession, scope: LogScope, keys: tuple[str, ...]) -> Subquery:
    """The UNION ALL of sources that together count every decision in ``scope`` exactly once."""
    dialect = dialect_name(session)
    need_customer = "customer_id" in keys or scope.by_customer
    if need_customer and (scope.timed or "day" in keys):
        return facts.live(scope, keys, dialect, scope.start, scope.end).subquery("facts")
    done = await marks(session, scope.point_id)
    if need_customer:
        parts = [facts.customers(scope, keys), *_since(scope, keys, dialect, None, None, done)]
        return union_all(*parts).subquery("facts")
    start = _utc(scope.start) if scope.start is not None else None
    end = _utc(scope.end) if scope.end is not None else None
    # Whole UTC days [first, last) come from the rollup; the rest of [start, end) from the log.
    first = None if start is None else start.date() + timedelta(days=0 if start == _midnight(start.date()) else 1)
    last = None if end is None else end.date()
    if first is not None and last is not None and first >= last:
        return facts.live(scope, keys, dialect, start, end).subquery("facts")
    whole_start = _midnight(first) if first is not None else None
    whole_end = _midnight(last) if last is not None else None
    parts = [facts.days(scope, keys, first, last), *_since(scope, keys, dialect, whole_start, whole_end, done)]
    if start is not None and whole_start is not None and start < whole_start:
        parts.append(facts.live(scope, keys, dialect, start, whole_start))
    if end is not None and whole_end is not None and whole_end < end:
        parts.append(facts.live(scope, keys, dialect, whole_end, end))
    return union_all(*parts).subquery("facts")


def _sums(source: Subquery) -> list[Any]:
    """decisions, activated, outcomes, accepted, and the sum and sum of squares of earned."""
    return [func.coalesce(func.sum(source.c[name]), 0).label(name) for name in SUMS]


async def lever_sums(session: AsyncSession, scope: LogScope) -> list[Row[Any]]:
    """One row per lever in the log: (lever_key, *sums)."""
    source = await _facts(session, scope, ("lever_key",))
    query = select(source.c.lever_key, *_sums(source)).group_by(source.c.lever_key).order_by(source.c.lever_key)
    return list((await session.execute(query)).all())


def _group_column(dimension: str, source: Subquery) -> tuple[ColumnElement[Any], list[tuple[Any, Any]]]:
    """The grouping expression of a breakdown and the outer joins it needs."""
    if dimension == "STAGE":
        return Customer.stage, [(Customer, Customer.id == source.c.customer_id)]
    if dimension == "VALUE_TIER":
        tier = func.coalesce(CustomerScores.value_tier, literal(DEFAULT_TIER))
        return tier, [(CustomerScores, CustomerScores.customer_id == source.c.customer_id)]
    if dimension == "SEGMENT":  # ``source`` is grouped by segment id (see ``_by_segment``)
        return func.coalesce(Segment.key, literal(NO_GROUP)), [(Segment, Segment.id == source.c.segment_id)]
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
        return func.coalesce(latest.c.code, literal(NO_GROUP)), [(latest, latest.c.customer_id == source.c.customer_id)]
    if dimension == "CAMPAIGN":
        # Text, so that every dimension's groups share one type; NONE is "no campaign".
        return func.coalesce(cast(source.c.campaign_id, String), literal(NO_GROUP)), []
    raise ValueError(f"unknown dimension {dimension!r}")


def _by_segment(source: Subquery) -> Subquery:
    """The sums per (segment id, lever), a customer counting in each of its segments (NULL: in
    none). Grouping the membership join by an integer, and naming the groups after, took a third
    off the breakdown."""
    segment = SegmentMember.segment_id
    return (
        select(segment.label("segment_id"), source.c.lever_key, *_sums(source))
        .select_from(source)
        .outerjoin(SegmentMember, SegmentMember.customer_id == source.c.customer_id)
        .group_by(segment, source.c.lever_key)
        .subquery("by_segment")
    )


async def lever_sums_by(session: AsyncSession, scope: LogScope, dimension: str) -> list[Row[Any]]:
    """One row per (group, lever): (grp, lever_key, *sums). A decision of a customer in several
    segments counts in each of them; customers in none (or with no churn reason) form group NONE."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    key = "customer_id" if dimension in CUSTOMER_DIMENSIONS else "campaign_id"
    source = await _facts(session, scope, (key, "lever_key"))
    if dimension == "SEGMENT":
        source = _by_segment(source)
    group, joins = _group_column(dimension, source)
    query = select(group.label("grp"), source.c.lever_key, *_sums(source)).select_from(source)
    for target, on in joins:
        query = query.outerjoin(target, on)
    query = query.group_by(group, source.c.lever_key).order_by(group, source.c.lever_key)
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


def _period_of_day(day: Any, interval: str, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return period_start(day, interval, dialect)
    if interval not in INTERVALS:
        raise ValueError(f"unknown interval {interval!r}")
    return func.date_trunc("day" if interval == "DAY" else "week", cast(day, DateTime()))


async def analytic_settings(session: AsyncSession) -> None:
    """Start the report's transaction: one snapshot for all its statements (the rollup and the
    live log must agree on the watermark they were read at), and on PostgreSQL room for the joins
    to hash a million-row log in memory (the default 4MB work_mem spills the outcomes hash to disk
    in 16 batches). Call it before any other statement of the transaction."""
    if dialect_name(session) == "postgresql":
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        await session.execute(text(f"SET LOCAL work_mem = '{ANALYTIC_WORK_MEM}'"))
        # Compiling the plan, or starting parallel workers, costs more than running the plan on
        # the rollup (measured: JIT 0.8 s of 2.7 s; 0.25 s to gather 0 rows from two workers).
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    else:
        # pysqlite opens no transaction for a SELECT: each would read its own snapshot.
        await session.execute(text("BEGIN"))


async def timeline_sums(session: AsyncSession, scope: LogScope, interval: str) -> list[Row[Any]]:
    """One row per (period, lever): (period, lever_key, *sums)."""
    source = await _facts(session, scope, ("day", "lever_key"))
    period = _period_of_day(source.c.day, interval, dialect_name(session))
    query = (
        select(period.label("period"), source.c.lever_key, *_sums(source))
        .group_by(period, source.c.lever_key)
        .order_by(period, source.c.lever_key)
    )
    return list((await session.execute(query)).all())
