"""The lifecycle queue: enqueue touched customers, take a share to process, remove what was done."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name
from db.models.lifecycle_queue import LifecycleQueueEntry as Entry


async def enqueue(session: AsyncSession, customer_ids: Iterable[int], now: datetime) -> None:
    ids = sorted(set(customer_ids))
    if ids:
        await session.execute(Entry.__table__.insert(), [{"customer_ids": ids, "queued_at": now}])


async def take(session: AsyncSession, limit: int) -> tuple[list[int], list[int]]:
    """The oldest queued batches, up to about ``limit`` customers: (distinct customer ids, entry ids).

    On PostgreSQL the entries are locked and skipped by other workers until this transaction ends,
    so several workers drain side by side without taking the same batch twice.
    """
    query = select(Entry.id, Entry.customer_ids).order_by(Entry.id).limit(max(1, limit // 100))
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    customers: set[int] = set()
    taken: list[int] = []
    for row in (await session.execute(query)).all():
        if taken and len(customers) + len(row.customer_ids) > limit:
            break
        taken.append(row.id)
        customers.update(row.customer_ids)
    return sorted(customers), taken


async def remove(session: AsyncSession, entry_ids: list[int]) -> None:
    await session.execute(delete(Entry).where(Entry.id.in_(entry_ids)))


async def pending(session: AsyncSession) -> int:
    """Customers still owed a pass (counted once per queued batch)."""
    rows = (await session.execute(select(Entry.customer_ids))).scalars().all()
    return sum(len(ids) for ids in rows)
