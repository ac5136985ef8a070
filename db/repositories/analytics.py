"""Aggregate queries for funnel, cohort, rate, acquisition and referral analytics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import UtcDateTime
from db.dialect import dialect_name
from db.models import Customer, CustomerMetrics, Segment, SegmentMember, StageChange

ACTIVE_STAGES = ("CONVERSION", "GROWTH", "RETENTION", "REACTIVATED")


def month_of(column: Any, dialect: str) -> ColumnElement[str]:
    """'YYYY-MM' of a UTC timestamp, on both backends."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(func.date_trunc("month", func.timezone("UTC", column)), "YYYY-MM")


def plus_months(column: Any, months: int, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M:%f", column, f"+{months} months")
    return column + text(f"interval '{int(months)} months'")


def in_segment(customer_id: Any, segment_key: str | None) -> ColumnElement[bool]:
    if segment_key is None:
        return literal(True)
    return customer_id.in_(
        select(SegmentMember.customer_id)
        .join(Segment, Segment.id == SegmentMember.segment_id)
        .where(Segment.key == segment_key)
    )


def stage_at(customer_id: Any, moment: Any) -> Any:
    """The stage a customer was in at ``moment``, read from the stage history (None before any)."""
    return (
        select(StageChange.to_stage)
        .where(StageChange.customer_id == customer_id, StageChange.at <= moment)
        .order_by(StageChange.at.desc(), StageChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )


async def milestones(
    session: AsyncSession, start: datetime | None, end: datetime | None, segment_key: str | None
) -> list[Any]:
    """One row per customer created in range: when they reached each forward stage."""
    retained = (
        select(StageChange.customer_id, func.min(StageChange.at).label("retained_at"))
        .where(StageChange.to_stage == "RETENTION")
        .group_by(StageChange.customer_id)
        .subquery()
    )
    terms = [Customer.erased_at.is_(None), in_segment(Customer.id, segment_key)]
    if start is not None:
        terms.append(Customer.created_at >= start)
    if end is not None:
        terms.append(Customer.created_at < end)
    query = (
        select(
            Customer.created_at,
            (Customer.email.is_not(None) | Customer.phone.is_not(None)).label("has_contact"),
            CustomerMetrics.signup_at,
            CustomerMetrics.first_purchase_at,
            CustomerMetrics.second_purchase_at,
            retained.c.retained_at,
        )
        .outerjoin(CustomerMetrics, CustomerMetrics.customer_id == Customer.id)
        .outerjoin(retained, retained.c.customer_id == Customer.id)
        .where(*terms)
    )
    return list((await session.execute(query)).all())


async def cohort_states(session: AsyncSession, offsets: tuple[int, ...], now: datetime) -> list[Any]:
    """Per acquisition month and offset: customers, and how many were active/churned/reactivated."""
    dialect = dialect_name(session)
    cohort = month_of(Customer.created_at, dialect).label("cohort")
    columns: list[Any] = [cohort, func.count().label("customers")]
    for k in offsets:
        moment = plus_months(Customer.created_at, k, dialect)
        state = stage_at(Customer.id, moment)
        due = moment <= literal(now, UtcDateTime())
        columns += [
            func.sum(case((due, 1), else_=0)).label(f"due_{k}"),
            func.sum(case((and_(due, state.in_(ACTIVE_STAGES[:3])), 1), else_=0)).label(f"active_{k}"),
            func.sum(case((and_(due, state == "CHURNED"), 1), else_=0)).label(f"churned_{k}"),
            func.sum(case((and_(due, state == "REACTIVATED"), 1), else_=0)).label(f"reactivated_{k}"),
        ]
    query = select(*columns).where(Customer.erased_at.is_(None)).group_by(cohort).order_by(cohort)
    return list((await session.execute(query)).all())


async def entries_by_month(
    session: AsyncSession, stage: str, start: datetime, end: datetime, segment_key: str | None
) -> dict[str, int]:
    dialect = dialect_name(session)
    month = month_of(StageChange.at, dialect).label("month")
    query = (
        select(month, func.count(func.distinct(StageChange.customer_id)))
        .where(StageChange.to_stage == stage, StageChange.at >= start, StageChange.at < end,
               in_segment(StageChange.customer_id, segment_key))
        .group_by(month)
    )
    return {m: int(n) for m, n in (await session.execute(query)).all()}


async def count_in_stages_at(
    session: AsyncSession, stages: tuple[str, ...], moment: datetime, segment_key: str | None
) -> int:
    state = stage_at(Customer.id, literal(moment, UtcDateTime()))
    query = select(func.count()).where(
        Customer.erased_at.is_(None), in_segment(Customer.id, segment_key), state.in_(stages)
    )
    return int(await session.scalar(query) or 0)


async def acquisition_mix(session: AsyncSession, start: datetime | None, end: datetime | None) -> list[Any]:
    month = month_of(Customer.created_at, dialect_name(session)).label("month")
    terms = [Customer.erased_at.is_(None)]
    if start is not None:
        terms.append(Customer.created_at >= start)
    if end is not None:
        terms.append(Customer.created_at < end)
    query = (
        select(month, Customer.acquisition_channel, func.count())
        .where(*terms)
        .group_by(month, Customer.acquisition_channel)
        .order_by(month, Customer.acquisition_channel)
    )
    return list((await session.execute(query)).all())


def referral_counts_query(referrer_ids: list[int] | None = None, limit: int | None = None) -> Any:
    referred = Customer.__table__.alias("referred")
    converted = func.sum(case((CustomerMetrics.purchase_count > 0, 1), else_=0))
    query = (
        select(referred.c.referred_by_id, func.count().label("referrals"), func.coalesce(converted, 0).label("converted"))
        .select_from(referred)
        .outerjoin(CustomerMetrics, CustomerMetrics.customer_id == referred.c.id)
        .where(referred.c.referred_by_id.is_not(None), referred.c.erased_at.is_(None))
        .group_by(referred.c.referred_by_id)
    )
    if referrer_ids is not None:
        query = query.where(referred.c.referred_by_id.in_(referrer_ids))
    if limit is not None:
        query = query.order_by(func.count().desc(), converted.desc(), referred.c.referred_by_id).limit(limit)
    return query


async def referral_counts(session: AsyncSession, referrer_ids: list[int]) -> dict[int, tuple[int, int]]:
    rows = (await session.execute(referral_counts_query(referrer_ids))).all()
    return {rid: (int(n), int(c)) for rid, n, c in rows}


async def top_referrers(session: AsyncSession, first: int) -> list[tuple[int, int, int]]:
    rows = (await session.execute(referral_counts_query(limit=first))).all()
    return [(int(rid), int(n), int(c)) for rid, n, c in rows]
