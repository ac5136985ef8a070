"""Per policy arm of a decision point: served decisions and outcomes, and shadow agreement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Decision, Outcome


async def served(session: AsyncSession, point_id: int, config_version: int) -> list[Row[Any]]:
    """(arm, decisions, outcomes, accepted, reward sum, mean expected reward) per serving arm."""
    query = (
        select(
            Decision.policy_arm,
            func.count(Decision.id),
            func.count(Outcome.id),
            func.coalesce(func.sum(case((Outcome.accepted, 1), else_=0)), 0),
            func.coalesce(func.sum(Outcome.reward), 0.0),
            func.avg(Decision.expected_reward),
        )
        .outerjoin(Outcome, Outcome.decision_id == Decision.id)
        .where(Decision.decision_point_id == point_id, Decision.config_version == config_version)
        .group_by(Decision.policy_arm)
    )
    return list((await session.execute(query)).all())


async def shadows(session: AsyncSession, point_id: int, config_version: int) -> list[Row[Any]]:
    """(shadow arm, scored, agreements, its mean expected reward, the served mean expected reward)."""
    query = (
        select(
            Decision.shadow_arm,
            func.count(Decision.id),
            func.coalesce(func.sum(case((Decision.shadow_lever == Decision.lever_key, 1), else_=0)), 0),
            func.avg(Decision.shadow_expected_reward),
            func.avg(Decision.expected_reward),
        )
        .where(
            Decision.decision_point_id == point_id,
            Decision.config_version == config_version,
            Decision.shadow_arm.is_not(None),
        )
        .group_by(Decision.shadow_arm)
    )
    return list((await session.execute(query)).all())
