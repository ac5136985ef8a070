"""Queries over reason codes and the reasons customers and prospects gave."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import insert_for
from db.models import CustomerReason, Event, ReasonCode, Segment, SegmentMember
from db.repositories.lifecycle import Scope, in_scope


def _kind_of_event() -> Any:
    lost = and_(Event.type == "CUSTOM", Event.category == "LOST_PROSPECT")
    return case((lost, literal("LOST_PROSPECT")), else_=literal("CHURN"))


async def record_from_events(
    session: AsyncSession, scope: Scope, now: datetime, event_ids: list[int] | None = None
) -> None:
    """Store the reasons stated on cancellations (and CUSTOM events with category CHURN or
    LOST_PROSPECT) of the customers in scope. A known code is matched case-insensitively
    ("no longer needed" → NO_LONGER_NEEDED); anything else is OTHER with the text kept.
    ``event_ids`` narrows it to those events.
    """
    kind = _kind_of_event()
    normalised = func.upper(func.replace(func.trim(Event.reason), " ", "_"))
    stated = or_(
        Event.type == "SUBSCRIPTION_CANCELLED",
        and_(Event.type == "CUSTOM", Event.category.in_(("CHURN", "LOST_PROSPECT"))),
    )
    only = Event.id.in_(event_ids) if event_ids is not None else literal(True)
    source = (
        select(
            Event.customer_id,
            kind,
            func.coalesce(ReasonCode.code, "OTHER"),
            case((ReasonCode.code.is_(None), Event.reason)),
            Event.id,
            Event.occurred_at,
            literal(now, CustomerReason.recorded_at.type),
        )
        .outerjoin(ReasonCode, and_(ReasonCode.kind == kind, ReasonCode.code == normalised))
        .where(in_scope(Event.customer_id, scope), only, Event.reason.is_not(None), stated)
    )
    columns = ["customer_id", "kind", "code", "text", "event_id", "at", "recorded_at"]
    statement = insert_for(session, CustomerReason).from_select(columns, source)
    await session.execute(statement.on_conflict_do_nothing(index_elements=["event_id"]))


async def codes(session: AsyncSession, kind: str | None = None) -> list[ReasonCode]:
    query = select(ReasonCode).order_by(ReasonCode.kind, ReasonCode.code)
    if kind is not None:
        query = query.where(ReasonCode.kind == kind)
    return list((await session.scalars(query)).all())


async def code_exists(session: AsyncSession, kind: str, code: str) -> bool:
    return await session.get(ReasonCode, (kind, code)) is not None


async def add_code(session: AsyncSession, kind: str, code: str, label: str, now: datetime) -> None:
    statement = insert_for(session, ReasonCode).values(kind=kind, code=code, label=label, created_at=now)
    await session.execute(statement.on_conflict_do_update(index_elements=["kind", "code"], set_={"label": label}))


async def add_reason(session: AsyncSession, row: dict[str, Any]) -> CustomerReason:
    reason = CustomerReason(**row)
    session.add(reason)
    await session.flush()
    return reason


async def latest_for(session: AsyncSession, customer_ids: list[int], kind: str) -> list[CustomerReason]:
    """Each customer's most recent reason of ``kind``, in one windowed statement."""
    rank = func.row_number().over(
        partition_by=CustomerReason.customer_id,
        order_by=(CustomerReason.at.desc(), CustomerReason.id.desc()),
    )
    inner = (
        select(CustomerReason.id, rank.label("rank"))
        .where(CustomerReason.customer_id.in_(customer_ids), CustomerReason.kind == kind)
        .subquery()
    )
    query = select(CustomerReason).join(inner, inner.c.id == CustomerReason.id).where(inner.c.rank == 1)
    return list((await session.scalars(query)).all())


async def breakdown(
    session: AsyncSession, kind: str, start: datetime | None, end: datetime | None, segment_key: str | None
) -> list[tuple[str, int]]:
    """Customers per reason code: each customer counts once, with their latest reason in range."""
    terms = [CustomerReason.kind == kind]
    if start is not None:
        terms.append(CustomerReason.at >= start)
    if end is not None:
        terms.append(CustomerReason.at < end)
    if segment_key is not None:
        terms.append(
            CustomerReason.customer_id.in_(
                select(SegmentMember.customer_id)
                .join(Segment, Segment.id == SegmentMember.segment_id)
                .where(Segment.key == segment_key)
            )
        )
    rank = func.row_number().over(
        partition_by=CustomerReason.customer_id,
        order_by=(CustomerReason.at.desc(), CustomerReason.id.desc()),
    )
    latest = select(CustomerReason.code, rank.label("rank")).where(*terms).subquery()
    query = (
        select(latest.c.code, func.count())
        .where(latest.c.rank == 1)
        .group_by(latest.c.code)
        .order_by(func.count().desc(), latest.c.code)
    )
    return [(code, int(n)) for code, n in (await session.execute(query)).all()]


