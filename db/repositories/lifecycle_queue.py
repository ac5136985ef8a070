"""The lifecycle queue: enqueue touched customers, take a share to process, remove what was done."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name
from db.models.lifecycle_queue import LifecycleQueueEntry as Entry


async def enqueue(
    session: AsyncSession, customer_ids: Iterable[int], now: datetime, event_ids: list[int] | None = None
) -> None:
    """Queue a batch's customers and, when known, the events it logged for them."""
    ids = sorted(set(customer_ids))
    if ids:
        row = {"customer_ids": ids, "queued_at": now, "event_ids": event_ids}
        await session.execute(Entry.__table__.insert(), [row])


@dataclass(frozen=True, slots=True)
class Taken:
    """Queued batches taken for one pass."""

    customer_ids: list[int]
    entry_ids: list[int]
    # The batches' events, for customers whose batches all listed them.
    event_ids: list[int]
    # Customers of a batch that listed no events: their facts are re-derived from the timeline.
    unlisted: set[int]


async def take(session: AsyncSession, limit: int) -> Taken:
    """The oldest queued batches, up to about ``limit`` customers.

    On PostgreSQL the entries are locked and skipped by other workers until this transaction ends,
    so several workers drain side by side without taking the same batch twice.
    """
    query = select(Entry.id, Entry.customer_ids, Entry.event_ids).order_by(Entry.id).limit(max(1, limit // 100))
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    customers: set[int] = set()
    taken: list[int] = []
    events: list[int] = []
    unlisted: set[int] = set()
    for row in (await session.execute(query)).all():
        if taken and len(customers) + len(row.customer_ids) > limit:
            break
        taken.append(row.id)
        customers.update(row.customer_ids)
        if row.event_ids is None:
            unlisted.update(row.customer_ids)
        else:
            events.extend(row.event_ids)
    return Taken(sorted(customers), taken, events, unlisted)


async def remove(session: AsyncSession, entry_ids: list[int]) -> None:
    await session.execute(delete(Entry).where(Entry.id.in_(entry_ids)))


async def pending(session: AsyncSession) -> int:
    """Customers still owed a pass (counted once per queued batch)."""
    rows = (await session.execute(select(Entry.customer_ids))).scalars().all()
    return sum(len(ids) for ids in rows)
