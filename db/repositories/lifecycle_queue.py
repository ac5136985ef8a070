"""The lifecycle queue: enqueue touched customers, take a share to process, remove what was done."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name
from db.models.lifecycle_queue import LifecycleQueueEntry as Entry


async def enqueue(session: AsyncSession, customer_ids: Iterable[int], now: datetime) -> None:
    rows = [{"customer_id": cid, "queued_at": now} for cid in customer_ids]
    if rows:
        await session.execute(Entry.__table__.insert(), rows)


async def take(session: AsyncSession, limit: int) -> tuple[list[int], int]:
    """Up to ``limit`` queued entries, oldest first: (distinct customer ids, highest entry id).

    On PostgreSQL the entries are locked and skipped by other workers until this transaction ends,
    so several workers drain side by side without doing the same customers twice at once.
    """
    query = select(Entry.id, Entry.customer_id).order_by(Entry.id).limit(limit)
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = (await session.execute(query)).all()
    if not rows:
        return [], 0
    return sorted({row.customer_id for row in rows}), max(row.id for row in rows)


async def remove(session: AsyncSession, customer_ids: list[int], up_to: int) -> None:
    """Remove the entries of these customers up to ``up_to``: later ones still owe a pass."""
    await session.execute(
        delete(Entry).where(Entry.customer_id.in_(customer_ids)).where(Entry.id <= up_to)
    )


async def pending(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Entry)) or 0)
