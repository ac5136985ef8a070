"""Queries over segments and memberships."""

from __future__ import annotations

from collections.abc import Iterable

from typing import Any

from sqlalchemy import Row, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import insert_for
from db.models import Segment, SegmentMember


async def by_key(session: AsyncSession, key: str) -> Segment | None:
    return await session.scalar(select(Segment).where(Segment.key == key))


async def all_with_counts(session: AsyncSession) -> list[tuple[Segment, int]]:
    counts = (
        select(SegmentMember.segment_id, func.count().label("n"))
        .group_by(SegmentMember.segment_id)
        .subquery()
    )
    query = (
        select(Segment, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.segment_id == Segment.id)
        .order_by(Segment.key)
    )
    return [(segment, int(n)) for segment, n in (await session.execute(query)).all()]


# Built once (it keeps its cache key) and run on the session's connection: the customer view and
# every customer page ask for it.
_FOR_CUSTOMERS = (
    select(SegmentMember.customer_id.label("member_id"), *Segment.__table__.c)
    .join(Segment, Segment.id == SegmentMember.segment_id)
    .where(SegmentMember.customer_id.in_(bindparam("ids", expanding=True)))
    .order_by(SegmentMember.customer_id, Segment.key)
)


async def for_customers(session: AsyncSession, customer_ids: Iterable[int]) -> list[Row[Any]]:
    """(customer_id, segment columns...) rows for every membership of the given customers."""
    ids = list(set(customer_ids))
    if not ids:
        return []
    connection = await session.connection()
    return list((await connection.execute(_FOR_CUSTOMERS, {"ids": ids})).all())


async def add_members(session: AsyncSession, segment_id: int, customer_ids: Iterable[int]) -> int:
    rows = [{"segment_id": segment_id, "customer_id": cid} for cid in set(customer_ids)]
    if not rows:
        return 0
    statement = insert_for(session, SegmentMember).on_conflict_do_nothing(
        index_elements=["segment_id", "customer_id"]
    )
    result = await session.execute(statement.returning(SegmentMember.__table__.c.customer_id), rows)
    return len(result.all())


async def remove_members(session: AsyncSession, segment_id: int, customer_ids: Iterable[int]) -> int:
    statement = (
        delete(SegmentMember)
        .where(SegmentMember.segment_id == segment_id)
        .where(SegmentMember.customer_id.in_(list(set(customer_ids))))
        .returning(SegmentMember.customer_id)
    )
    return len((await session.execute(statement)).all())
