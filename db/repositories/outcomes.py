"""Queries over outcomes and model snapshots: writes, the learners' tail, expiry, statistics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, case, delete, false, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name, insert_for, insert_skipping
from db.models import Decision, ModelSnapshot, Outcome

OUTCOME_ROW = tuple(Outcome.__table__.c)
KEEP_SNAPSHOTS = 3


async def insert_outcomes(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Insert outcomes; a decision that already has one is skipped. Returns {decision_id: id}.

    The caller must hold ``lock_decision_points`` for the decision points involved.
    """
    if not rows:
        return {}
    statement = insert_skipping(dialect_name(session), Outcome.__table__, ("decision_id",), ("decision_id", "id"))
    connection = await session.connection()  # a Core statement: no ORM execution path needed
    result = await connection.execute(statement, rows)
    return {decision_id: outcome_id for decision_id, outcome_id in result.all()}


async def by_decisions(session: AsyncSession, decision_ids: Sequence[int]) -> list[Row[Any]]:
    query = select(*OUTCOME_ROW).where(Outcome.decision_id.in_(list(decision_ids)))
    return list((await session.execute(query)).all())


async def tail(
    session: AsyncSession,
    point_id: int,
    config_version: int,
    after_id: int,
    limit: int,
    *,
    arm: str = "main",
    acceptance: bool = False,
) -> list[Row[Any]]:
    """Learnable outcomes of ``arm``'s decisions after ``after_id`` in id order: (id, lever,
    reward, features); with ``acceptance`` the reward is 1/0 for accepted or not.

    Late outcomes and imported history that did not ask to warm-start the model are skipped."""
    reward: Any = case((Outcome.accepted, 1.0), else_=0.0) if acceptance else Outcome.reward
    query = (
        select(Outcome.id, Decision.lever_key, reward, Decision.features)
        .join(Decision, Decision.id == Outcome.decision_id)
        .where(*_learnable(point_id, config_version, after_id, arm))
        .order_by(Outcome.id)
        .limit(limit)
    )
    return list((await session.execute(query)).all())


async def expire(session: AsyncSession, point_id: int, default_reward: float, now: datetime) -> int:
    """Give every activated decision whose reward window ended without an outcome its default
    outcome, in one INSERT ... SELECT. Idempotent: the unique decision_id skips those that have one.
    The caller must hold the decision point lock."""
    pending = (
        select(
            Decision.id,
            Decision.decision_point_id,
            false(),
            literal(default_reward),
            false(),
            literal("DEFAULT"),
            literal(now, Outcome.created_at.type),
        )
        .where(
            Decision.decision_point_id == point_id,
            Decision.window_ends_at.is_not(None),
            Decision.window_ends_at < now,
            ~select(Outcome.id).where(Outcome.decision_id == Decision.id).exists(),
        )
        .order_by(Decision.id)
    )
    columns = ["decision_id", "decision_point_id", "accepted", "reward", "late", "source", "created_at"]
    statement = (
        insert_for(session, Outcome)
        .from_select(columns, pending)
        .on_conflict_do_nothing(index_elements=["decision_id"])
    )
    result = await session.execute(statement)
    return int(result.rowcount or 0)


async def lever_stats(session: AsyncSession, point_id: int, since: datetime | None) -> list[Row[Any]]:
    """Per lever: decisions, activated ones, outcomes, accepted, revenue, reward, late and default counts."""
    terms = [Decision.decision_point_id == point_id]
    if since is not None:
        terms.append(Decision.created_at >= since)
    accepted = case((Outcome.accepted, 1), else_=0)
    query = (
        select(
            Decision.lever_key,
            func.count(Decision.id),
            func.count(Decision.activated_at),
            func.count(Outcome.id),
            func.coalesce(func.sum(accepted), 0),
            func.coalesce(func.sum(case((Outcome.accepted, Outcome.revenue), else_=0.0)), 0.0),
            func.coalesce(func.sum(Outcome.reward), 0.0),
            func.coalesce(func.sum(case((Outcome.late, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Outcome.source == "DEFAULT", 1), else_=0)), 0),
        )
        .outerjoin(Outcome, Outcome.decision_id == Decision.id)
        .where(and_(*terms))
        .group_by(Decision.lever_key)
        .order_by(Decision.lever_key)
    )
    return list((await session.execute(query)).all())


async def newest_snapshot(
    session: AsyncSession, point_id: int, config_version: int, arm: str = "main"
) -> ModelSnapshot | None:
    query = (
        select(ModelSnapshot)
        .where(
            ModelSnapshot.decision_point_id == point_id,
            ModelSnapshot.config_version == config_version,
            ModelSnapshot.policy_arm == arm,
        )
        .order_by(ModelSnapshot.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def newest_snapshot_watermark(session: AsyncSession, point_id: int, config_version: int, arm: str = "main") -> int:
    query = select(func.max(ModelSnapshot.last_outcome_id)).where(
        ModelSnapshot.decision_point_id == point_id,
        ModelSnapshot.config_version == config_version,
        ModelSnapshot.policy_arm == arm,
    )
    return int(await session.scalar(query) or 0)


async def save_snapshot(session: AsyncSession, row: dict[str, Any]) -> None:
    """Store a snapshot and keep only the newest few of its decision point and arm."""
    await session.execute(insert_for(session, ModelSnapshot).values(**row))
    arm = row.get("policy_arm", "main")
    same = (ModelSnapshot.decision_point_id == row["decision_point_id"], ModelSnapshot.policy_arm == arm)
    keep = select(ModelSnapshot.id).where(*same).order_by(ModelSnapshot.id.desc()).limit(KEEP_SNAPSHOTS)
    await session.execute(delete(ModelSnapshot).where(*same, ModelSnapshot.id.not_in(keep)))


async def count_after(
    session: AsyncSession, point_id: int, config_version: int, after_id: int, *, arm: str = "main"
) -> int:
    """How many learnable outcomes ``tail`` would still return after ``after_id``: a learner's lag."""
    query = (
        select(func.count())
        .select_from(Outcome)
        .join(Decision, Decision.id == Outcome.decision_id)
        .where(*_learnable(point_id, config_version, after_id, arm))
    )
    return int((await session.execute(query)).scalar_one())


def _learnable(point_id: int, config_version: int, after_id: int, arm: str) -> tuple[Any, ...]:
    """Outcomes an arm's learner applies after ``after_id``: on time, learnable (not imported
    history without warm start), of decisions the arm made under this configuration version."""
    return (
        Outcome.decision_point_id == point_id,
        Outcome.id > after_id,
        Outcome.late == false(),
        Outcome.learnable == true(),
        Decision.config_version == config_version,
        Decision.policy_arm == arm,
    )
