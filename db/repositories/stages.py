"""Queries over the stage history."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import StageChange


async def history_for(session: AsyncSession, customer_ids: Iterable[int]) -> list[StageChange]:
    query = (
        select(StageChange)
        .where(StageChange.customer_id.in_(list(set(customer_ids))))
        .order_by(StageChange.customer_id, StageChange.at.desc(), StageChange.id.desc())
    )
    return list((await session.scalars(query)).all())
