"""Contact policies and the contact history they are checked against. Queries never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name, insert_for
from db.models import ContactPolicy, Decision, DecisionPoint, Outcome

# pg_advisory_xact_lock(classid, objid): the class of "a customer's contacts" (0x0C1C = "cic").
CONTACT_LOCK_CLASS = 0x0C1C


async def all_policies(session: AsyncSession) -> list[ContactPolicy]:
    return list((await session.scalars(select(ContactPolicy).order_by(ContactPolicy.scope))).all())


async def upsert_policy(session: AsyncSession, scope: str, config: dict[str, Any], now: datetime) -> ContactPolicy:
    statement = insert_for(session, ContactPolicy).values(scope=scope, config=config, updated_at=now)
    statement = statement.on_conflict_do_update(index_elements=["scope"], set_={"config": config, "updated_at": now})
    await session.execute(statement)
    found = await session.scalar(
        select(ContactPolicy).where(ContactPolicy.scope == scope).execution_options(populate_existing=True)
    )
    assert found is not None
    return found


async def lock_customers(session: AsyncSession, customer_ids: Sequence[int]) -> None:
    """Serialise contact checks per customer until commit (PostgreSQL; SQLite has one writer).

    An advisory lock, not a row lock: decision inserts hold KEY SHARE on the customer row, which
    a FOR UPDATE would wait on (and deadlock with the other decider). Ids are locked in order.
    """
    if dialect_name(session) != "postgresql" or not customer_ids:
        return
    statement = text(
        "SELECT pg_advisory_xact_lock(:cls, (c % 2147483647)::int) FROM unnest(CAST(:ids AS bigint[])) AS c ORDER BY c"
    )
    await session.execute(statement, {"cls": CONTACT_LOCK_CLASS, "ids": sorted(set(customer_ids))})


async def history(
    session: AsyncSession,
    customer_ids: Sequence[int],
    *,
    contacts_since: datetime,
    rejections_since: datetime | None,
    skip: Sequence[int] = (),
) -> list[Row[Any]]:
    """The customers' activated decisions since ``contacts_since`` and, when asked, those
    rejected (a reported, not accepted, outcome) since ``rejections_since``, in one statement:
    (customer_id, point, lever_key, activated_at, outcome_at, accepted, source)."""
    rejected = and_(Outcome.accepted.is_(False), Outcome.source == "REPORTED")
    wanted = Decision.activated_at >= contacts_since
    if rejections_since is not None:
        wanted = or_(wanted, and_(rejected, Outcome.created_at >= rejections_since))
    query = (
        select(
            Decision.customer_id,
            DecisionPoint.key.label("point"),
            Decision.lever_key,
            Decision.activated_at,
            Outcome.created_at.label("outcome_at"),
            Outcome.accepted,
            Outcome.source,
        )
        .join(DecisionPoint, DecisionPoint.id == Decision.decision_point_id)
        .outerjoin(Outcome, Outcome.decision_id == Decision.id)
        .where(Decision.customer_id.in_(list(customer_ids)), Decision.activated_at.is_not(None), wanted)
    )
    if skip:
        query = query.where(Decision.id.not_in(list(skip)))
    return list((await session.execute(query)).all())


async def contacts(session: AsyncSession, customer_id: int, since: datetime | None, limit: int) -> list[Row[Any]]:
    """A customer's activated decisions, newest activation first (the contact history)."""
    from db.repositories.offers import DECISION_ROW

    query = select(*DECISION_ROW).where(Decision.customer_id == customer_id, Decision.activated_at.is_not(None))
    if since is not None:
        query = query.where(Decision.activated_at >= since)
    query = query.order_by(Decision.activated_at.desc(), Decision.id.desc()).limit(limit)
    return list((await session.execute(query)).all())
