"""Keeps the lever reports' rollup (db.models.lever_rollup) up to date. Never commits.

One refresh of a decision point moves its watermarks from (decisions ``d0``, outcomes ``o0``) to
(``d1``, ``o1``) and adds to the rollup: the decisions in (d0, d1] with their outcomes up to o1;
the outcomes in (o0, o1] of decisions up to d0; and the activations, since the last refresh, of
the decisions it had seen unactivated. All in one snapshot: PostgreSQL runs it REPEATABLE READ
behind a table lock taken before the snapshot (``begin_refresh``); SQLite's writer is alone.

Both watermarks must be *safe*: no id below them may commit later. Outcome ids already commit in
id order per decision point (services.offers.registry), decision ids do not; so on PostgreSQL a
refresh only moves to the newest ids it saw on its previous run, once every transaction that
was open back then has ended (see ``transactions_open_since``). SQLite has one writer at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, case, cast, delete, exists, func, literal, select, text, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name, insert_for
from db.models import Decision, LeverCustomerSums, LeverDaySums, LeverRollupMark, LeverUnactivatedDecision, Outcome
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


async def point_marks(session: AsyncSession, point_id: int) -> LeverRollupMark:
    """The point's marks, created at zero when missing (call ``begin_refresh`` first)."""
    statement = insert_for(session, LeverRollupMark).values(
        decision_point_id=point_id, last_decision_id=0, last_outcome_id=0, pending_decision_id=0, pending_outcome_id=0
    )
    await session.execute(statement.on_conflict_do_nothing(index_elements=["decision_point_id"]))
    query = select(LeverRollupMark).where(LeverRollupMark.decision_point_id == point_id)
    return (await session.execute(query.execution_options(populate_existing=True))).scalar_one()


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
    """The largest decision id and the point's largest outcome id that this transaction sees. (Any
    decision id is a watermark for every point; the largest of one point could take a scan.)"""
    decision = await session.scalar(select(func.max(Decision.id)))
    outcome = await session.scalar(select(func.max(Outcome.id)).where(Outcome.decision_point_id == point_id))
    return Watermark(int(decision or 0), int(outcome or 0))


async def database_now(session: AsyncSession) -> datetime:
    return await session.scalar(select(func.clock_timestamp()))  # type: ignore[no-any-return]


async def transactions_open_since(session: AsyncSession, moment: datetime) -> bool:
    """Whether any other client session of this database (PostgreSQL) has had its transaction open
    since ``moment`` or before: until none has, an id it drew from a sequence then may still
    commit. (Autovacuum's long transactions never insert, so they do not count.)"""
    query = text(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
        "AND xact_start IS NOT NULL AND xact_start <= :moment)"
    )
    return bool(await session.scalar(query, {"moment": moment}))


async def begin_refresh(session: AsyncSession) -> None:
    """The first statements of a refresh transaction (see the module docstring)."""
    if dialect_name(session) == "postgresql":
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        # LOCK takes no snapshot: the next statement's snapshot follows every earlier refresh.
        await session.execute(text(f"LOCK TABLE {LeverRollupMark.__tablename__} IN EXCLUSIVE MODE"))
        await session.execute(text("SET LOCAL jit = off"))


def still_unactivated(point_id: int, decision_id: Any) -> Any:
    """Whether a decision is not activated yet (an index-only probe of ix_decisions_unactivated)."""
    return exists().where(
        Decision.decision_point_id == point_id, Decision.id == decision_id, Decision.activated_at.is_(None)
    )


def _logged_between(point_id: int, old: Watermark, new: Watermark) -> list[ColumnElement[bool]]:
    """The point's decisions with ids in (old, new], found by the id range.

    The point is compared as ``decision_point_id + 0``, which no index covers: given a plain
    ``decision_point_id = ?`` SQLite walked the point's whole (decision_point_id, created_at) index
    and filtered ids after, so every step of a refresh read all the point's decisions (25 ms per
    statement at 135,000, inside the write lock) instead of the few thousand it rolls up."""
    return [Decision.id > old.decision_id, Decision.id <= new.decision_id, (Decision.decision_point_id + 0) == point_id]


def _changes(point_id: int, old: Watermark, new: Watermark) -> Any:
    """What a refresh adds: one row per decision or outcome or activation, with the decision's
    keys and its share of each sum."""
    waiting = LeverUnactivatedDecision
    answered = Outcome.id <= new.outcome_id
    decisions = (
        select(Decision.lever_key, Decision.created_at, Decision.customer_id, Decision.campaign_id,
               literal(1).label("decision"), case((Decision.activated_at.is_not(None), 1), else_=0).label("activation"),
               case((Outcome.id.is_not(None), 1), else_=0).label("outcome"), Outcome.accepted, Outcome.revenue)
        .select_from(Decision)
        .outerjoin(Outcome, and_(Outcome.decision_id == Decision.id, answered))
        .where(*_logged_between(point_id, old, new))
    )
    outcomes = (
        select(Decision.lever_key, Decision.created_at, Decision.customer_id, Decision.campaign_id,
               literal(0), literal(0), literal(1), Outcome.accepted, Outcome.revenue)
        .select_from(Outcome)
        .join(Decision, Decision.id == Outcome.decision_id)
        .where(Outcome.decision_point_id == point_id, Outcome.id > old.outcome_id, answered,
               Decision.id <= old.decision_id)
    )
    activations = (
        select(waiting.lever_key, waiting.created_at, waiting.customer_id, waiting.campaign_id,
               literal(0), literal(1), literal(0), literal(None), literal(None))
        .where(waiting.decision_point_id == point_id, ~still_unactivated(point_id, waiting.decision_id))
    )
    return union_all(decisions, outcomes, activations).subquery("changes")


def _add_sums(session: AsyncSession, model: Any, point_id: int, keys: dict[str, Any], changes: Any) -> Any:
    """INSERT the changes' sums per key, adding them to the stored sums of existing keys."""
    gain = earned(changes.c.accepted, changes.c.revenue)
    sums = {
        "decisions": func.sum(changes.c.decision),
        "activated": func.sum(changes.c.activation),
        "outcomes": func.sum(changes.c.outcome),
        "accepted": func.sum(case((changes.c.accepted, 1), else_=0)),
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
    """Add what was logged, answered and activated between ``old`` and ``new`` to the rollup."""
    changes = _changes(point_id, old, new)
    campaign = func.coalesce(changes.c.campaign_id, NO_CAMPAIGN)
    by_day = {"day": day_of(changes.c.created_at, dialect_name(session)), "lever_key": changes.c.lever_key, "campaign": campaign}
    by_customer = {"customer_id": changes.c.customer_id, "lever_key": changes.c.lever_key, "campaign": campaign}
    await session.execute(_add_sums(session, LeverDaySums, point_id, by_day, changes))
    await session.execute(_add_sums(session, LeverCustomerSums, point_id, by_customer, changes))
    waiting = LeverUnactivatedDecision
    await session.execute(
        delete(waiting).where(waiting.decision_point_id == point_id, ~still_unactivated(point_id, waiting.decision_id))
    )
    unactivated = select(
        Decision.decision_point_id, Decision.id, Decision.lever_key, Decision.customer_id, Decision.campaign_id,
        Decision.created_at,
    ).where(*_logged_between(point_id, old, new), Decision.activated_at.is_(None))
    columns = ["decision_point_id", "decision_id", "lever_key", "customer_id", "campaign_id", "created_at"]
    await session.execute(waiting.__table__.insert().from_select(columns, unactivated))


async def save_marks(session: AsyncSession, point_id: int, last: Watermark, pending: Watermark, since: datetime | None) -> None:
    await session.execute(
        update(LeverRollupMark)
        .where(LeverRollupMark.decision_point_id == point_id)
        .values(
            last_decision_id=last.decision_id, last_outcome_id=last.outcome_id,
            pending_decision_id=pending.decision_id, pending_outcome_id=pending.outcome_id, pending_since=since,
        )
    )
