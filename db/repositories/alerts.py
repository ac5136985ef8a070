"""Queries over alerts: the active ones of some customers, raising, resolving, pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import insert_for
from db.models import Alert, Customer, CustomerScores
from db.repositories.lifecycle import Scope, in_scope

ACTIVE = ("OPEN", "ACTIONED")


async def active_for(session: AsyncSession, scope: Scope) -> list[Alert]:
    query = select(Alert).where(Alert.status.in_(ACTIVE), in_scope(Alert.customer_id, scope))
    return list((await session.scalars(query)).all())


async def raise_many(session: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert alerts; one that would duplicate an active cause or a past evidence is skipped."""
    if not rows:
        return []
    table = Alert.__table__
    statement = insert_for(session, Alert).on_conflict_do_nothing().returning(*table.c)
    # executemany + RETURNING works on both backends (SQLAlchemy's "insertmanyvalues").
    result = await session.execute(statement, rows)
    return [dict(row) for row in result.mappings().all()]


async def set_status_many(session: AsyncSession, changes: list[dict[str, Any]]) -> None:
    """Bulk UPDATE by id of status/severity/updated_at/resolved_at (same keys in every dict)."""
    if not changes:
        return
    table = Alert.__table__
    keys = [k for k in changes[0] if k != "id"]
    statement = update(table).where(table.c.id == bindparam("id_")).values({k: bindparam(k) for k in keys})
    await session.execute(statement, [{**{k: c[k] for k in keys}, "id_": c["id"]} for c in changes])


async def expire_stale(session: AsyncSession, older_than: datetime, now: datetime) -> int:
    statement = (
        update(Alert)
        .where(Alert.status == "OPEN", Alert.raised_at < older_than)
        .values(status="EXPIRED", updated_at=now, resolved_at=now)
        .returning(Alert.id)
    )
    return len((await session.execute(statement)).all())


def filtered(
    *, status: str | None, type_: str | None, stage: str | None, tier: str | None,
    customer_ids: list[int] | None = None,
) -> list[ColumnElement[bool]]:
    terms: list[ColumnElement[bool]] = []
    if status is not None:
        terms.append(Alert.status == status)
    if type_ is not None:
        terms.append(Alert.type == type_)
    if stage is not None:
        terms.append(Alert.customer_id.in_(select(Customer.id).where(Customer.stage == stage)))
    if tier is not None:
        terms.append(
            Alert.customer_id.in_(select(CustomerScores.customer_id).where(CustomerScores.value_tier == tier))
        )
    if customer_ids is not None:
        terms.append(Alert.customer_id.in_(customer_ids))
    return terms


async def page(session: AsyncSession, terms: list[ColumnElement[bool]], after: int | None, limit: int) -> list[Alert]:
    """Newest first, keyset on id."""
    query = select(Alert).where(*terms)
    if after is not None:
        query = query.where(Alert.id < after)
    return list((await session.scalars(query.order_by(Alert.id.desc()).limit(limit))).all())


async def for_customers(session: AsyncSession, customer_ids: list[int]) -> list[Alert]:
    query = (
        select(Alert)
        .where(Alert.customer_id.in_(customer_ids))
        .order_by(Alert.customer_id, Alert.id.desc())
    )
    return list((await session.scalars(query)).all())


async def by_id(session: AsyncSession, alert_id: int) -> Alert | None:
    return await session.get(Alert, alert_id)



async def rerate_active(session: AsyncSession, now: datetime) -> int:
    """Re-rate every active alert set-based after value tiers changed (the same rule as
    services.lifecycle.alarms.severity: type base + tier bonus + extra open causes)."""
    from sqlalchemy import case, func

    other = Alert.__table__.alias("other")
    base = case((Alert.type == "CANCELLATION_REQUEST", 1), else_=0)
    tier = (
        select(case((CustomerScores.value_tier == "PLATINUM", 2), (CustomerScores.value_tier == "GOLD", 1), else_=0))
        .where(CustomerScores.customer_id == Alert.customer_id)
        .scalar_subquery()
    )
    causes = (
        select(func.count())
        .select_from(other)
        .where(other.c.customer_id == Alert.customer_id, other.c.status.in_(ACTIVE))
        .scalar_subquery()
    )
    level = base + func.coalesce(tier, 0) + causes - 1
    severity = case((level >= 3, "CRITICAL"), (level == 2, "HIGH"), (level == 1, "MEDIUM"), else_="LOW")
    statement = (
        update(Alert)
        .where(Alert.status.in_(ACTIVE), Alert.severity != severity)
        .values(severity=severity, updated_at=now)
    )
    return (await session.execute(statement)).rowcount or 0
