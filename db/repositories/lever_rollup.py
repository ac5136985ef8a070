"""Keeps the lever reports' rollup (db.models.lever_rollup) up to date. Never commits.

One refresh of a decision point moves its watermarks from (decisions ``d0``, outcomes ``o0``) to
(``d1``, ``o1``): it adds up the decisions that became settled in between, which are those above
``d0`` (up to ``d1``) with an outcome up to ``o1``, and those at or below ``d0`` whose outcome
arrived after ``o0`` (they were open); it drops the latter from the open decisions and lists the
new decisions still without an outcome.

Both watermarks must be *safe*: no id below them may commit later. Outcome ids already commit in
id order per decision point (services.offers.registry), decision ids do not; so on PostgreSQL a
refresh only moves to the newest ids it saw on its previous run, once every transaction that
was open back then has ended (see ``transactions_open_since``). SQLite has one writer at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Date, ColumnElement, case, cast, delete, exists, func, literal, select, text, update, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name, insert_for
from db.models import Decision, LeverCustomerSums, LeverDaySums, LeverOpenDecision, LeverRollupMark, Outcome
from db.models.lever_rollup import NO_CAMPAIGN

SUMS = ("decisions", "activated", "outcomes", "accepted", "revenue", "revenue_sq")


@dataclass(frozen=True, slots=True)
class Watermark:
    decision_id: int = 0
    outcome_id: int = 0


def day_of(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC date of a timestamp: 'YYYY-MM-DD' text on SQLite (stored as UTC text), a date on PostgreSQL."""
    if dialect == "sqlite":
        return func.date(column)
    return cast(func.timezone("UTC", column), Date)


def earned(accepted: Any, revenue: Any) -> ColumnElement[float]:
    """An outcome's revenue when accepted, else 0 (what every revenue figure sums)."""
    return case((accepted, func.coalesce(revenue, 0.0)), else_=0.0)


async def lock_marks(session: AsyncSession, point_id: int) -> LeverRollupMark:
    """The point's marks, created at zero when missing, locked until the transaction ends (one
    refresh per point at a time)."""
    statement = insert_for(session, LeverRollupMark).values(
        decision_point_id=point_id, last_decision_id=0, last_outcome_id=0, pending_decision_id=0, pending_outcome_id=0
    )
    await session.execute(statement.on_conflict_do_nothing(index_elements=["decision_point_id"]))
    query = select(LeverRollupMark).where(LeverRollupMark.decision_point_id == point_id)
    if dialect_name(session) == "postgresql":
        query = query.with_for_update()
    mark = (await session.execute(query.execution_options(populate_existing=True))).scalar_one()
    return mark


async def marks(session: AsyncSession, point_id: int) -> Watermark:
    """How far the rollup of a point has read (zeros before its first refresh)."""
    row = (
        await session.execute(
            select(LeverRollupMark.last_decision_id, LeverRollupMark.last_outcome_id).where(
                LeverRollupMark.decision_point_id == point_id
            )
        )
    ).first()
    return Watermark(int(row[0]), int(row[1])) if row else Watermark()


async def newest(session: AsyncSession, point_id: int) -> Watermark:
    """The largest decision and outcome ids of a point that this transaction sees."""
    decision = await session.scalar(select(func.max(Decision.id)).where(Decision.decision_point_id == point_id))
    outcome = await session.scalar(select(func.max(Outcome.id)).where(Outcome.decision_point_id == point_id))
    return Watermark(int(decision or 0), int(outcome or 0))


async def database_now(session: AsyncSession) -> datetime:
    return await session.scalar(select(func.clock_timestamp()))  # type: ignore[no-any-return]


async def transactions_open_since(session: AsyncSession, moment: datetime) -> bool:
    """Whether any other session of this database (PostgreSQL) has had its transaction open since
    ``moment`` or before: until none has, an id it drew from a sequence then may still commit."""
    query = text(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND xact_start <= :moment)"
    )
    return bool(await session.scalar(query, {"moment": moment}))


def _settled(session: AsyncSession, point_id: int, old: Watermark, new: Watermark) -> Any:
    """The decisions settled between two watermarks, one row each with its outcome."""
    columns = (Decision.lever_key, Decision.created_at, Decision.customer_id, Decision.campaign_id,
               Decision.activated_at, Outcome.accepted, Outcome.revenue)
    joined = select(*columns).select_from(Decision).join(Outcome, Outcome.decision_id == Decision.id)
    above = joined.where(
        Decision.decision_point_id == point_id, Decision.id > old.decision_id, Decision.id <= new.decision_id,
        Outcome.id <= new.outcome_id,
    )
    was_open = joined.where(
        Outcome.decision_point_id == point_id, Outcome.id > old.outcome_id, Outcome.id <= new.outcome_id,
        Decision.id <= old.decision_id,
    )
    return union_all(above, was_open).subquery("settled")


def _add_sums(session: AsyncSession, model: Any, point_id: int, keys: dict[str, Any], settled: Any) -> Any:
    """INSERT the settled rows' sums per key, adding them to the stored sums of existing keys."""
    gain = earned(settled.c.accepted, settled.c.revenue)
    sums = {
        "decisions": func.count(),
        "activated": func.count(settled.c.activated_at),
        "outcomes": func.count(),
        "accepted": func.sum(case((settled.c.accepted, 1), else_=0)),
        "revenue": func.sum(gain),
        "revenue_sq": func.sum(gain * gain),
    }
    rows = (
        select(literal(point_id).label("decision_point_id"), *(v.label(k) for k, v in keys.items()),
               *(v.label(k) for k, v in sums.items()))
        .where(literal(True))  # SQLite reads an INSERT ... SELECT ... ON CONFLICT as a join without it
        .group_by(*keys.values())
    )
    statement = insert_for(session, model).from_select(["decision_point_id", *keys, *sums], rows)
    table = model.__table__
    return statement.on_conflict_do_update(
        index_elements=["decision_point_id", *keys],
        set_={name: table.c[name] + statement.excluded[name] for name in SUMS},
    )


async def settle(session: AsyncSession, point_id: int, old: Watermark, new: Watermark) -> None:
    """Add what settled between ``old`` and ``new`` to the rollup and update the open decisions."""
    settled = _settled(session, point_id, old, new)
    campaign = func.coalesce(settled.c.campaign_id, NO_CAMPAIGN)
    by_day = {"day": day_of(settled.c.created_at, dialect_name(session)), "lever_key": settled.c.lever_key, "campaign": campaign}
    by_customer = {"customer_id": settled.c.customer_id, "lever_key": settled.c.lever_key, "campaign": campaign}
    await session.execute(_add_sums(session, LeverDaySums, point_id, by_day, settled))
    await session.execute(_add_sums(session, LeverCustomerSums, point_id, by_customer, settled))
    answered = select(Outcome.decision_id).where(
        Outcome.decision_point_id == point_id, Outcome.id > old.outcome_id, Outcome.id <= new.outcome_id
    )
    await session.execute(
        delete(LeverOpenDecision).where(
            LeverOpenDecision.decision_point_id == point_id, LeverOpenDecision.decision_id.in_(answered)
        )
    )
    unanswered = (
        select(Decision.decision_point_id, Decision.id, Decision.lever_key, Decision.customer_id, Decision.campaign_id,
               Decision.created_at, Decision.activated_at)
        .where(
            Decision.decision_point_id == point_id, Decision.id > old.decision_id, Decision.id <= new.decision_id,
            ~exists().where(Outcome.decision_id == Decision.id, Outcome.id <= new.outcome_id),
        )
    )
    await session.execute(
        LeverOpenDecision.__table__.insert().from_select(
            ["decision_point_id", "decision_id", "lever_key", "customer_id", "campaign_id", "created_at", "activated_at"],
            unanswered,
        )
    )
    # Activations since the last refresh: the reports then look fewer of them up live.
    activated = select(Decision.activated_at).where(Decision.id == LeverOpenDecision.decision_id).scalar_subquery()
    await session.execute(
        update(LeverOpenDecision)
        .where(LeverOpenDecision.decision_point_id == point_id, LeverOpenDecision.activated_at.is_(None))
        .values(activated_at=activated)
    )


async def save_marks(session: AsyncSession, point_id: int, last: Watermark, pending: Watermark, since: datetime | None) -> None:
    await session.execute(
        update(LeverRollupMark)
        .where(LeverRollupMark.decision_point_id == point_id)
        .values(
            last_decision_id=last.decision_id, last_outcome_id=last.outcome_id,
            pending_decision_id=pending.decision_id, pending_outcome_id=pending.outcome_id, pending_since=since,
        )
    )
