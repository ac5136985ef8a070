"""Campaigns: their rows, the segment scan they rank, their targets and outcomes. Never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name
from db.models import Campaign, Customer, CustomerMetrics, CustomerScores, Decision, Outcome, Segment, SegmentMember
from db.repositories.offer_features import _query as facts_query
from db.repositories.offers import DECISION_ROW


async def insert(session: AsyncSession, row: dict[str, Any]) -> Campaign:
    campaign = Campaign(**row)
    session.add(campaign)
    await session.flush()
    return campaign


async def finish(session: AsyncSession, campaign_id: int, ranked: int, targeted: int, skipped: dict[str, int]) -> None:
    await session.execute(
        update(Campaign).where(Campaign.id == campaign_id).values(ranked=ranked, targeted=targeted, skipped=skipped)
    )


async def get(session: AsyncSession, campaign_id: int) -> Campaign | None:
    return await session.get(Campaign, campaign_id)


async def all_campaigns(session: AsyncSession, limit: int) -> list[Campaign]:
    return list((await session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit))).all())


async def segment_facts(
    session: AsyncSession, segment_key: str, after_id: int, limit: int, *, alerts: bool, churn_reason: bool,
    alert_types: bool = False,
) -> list[Row[Any]]:
    """A page of a segment's members with their offer facts (as ``offer_features`` reads them),
    in customer id order.

    Two statements: the page's last id from the membership index, then the members in the id
    range (after, last] with every join bounded to that range in its ON clause. (Unbounded,
    PostgreSQL merge-joined or hashed the whole score and metric tables on every page: 100-150 ms
    a page of 1,000 on 100,000 customers instead of a few.)"""
    segment_id = select(Segment.id).where(Segment.key == segment_key).scalar_subquery()
    last = await session.scalar(
        select(SegmentMember.customer_id)
        .where(SegmentMember.segment_id == segment_id, SegmentMember.customer_id > after_id)
        .order_by(SegmentMember.customer_id)
        .offset(limit - 1)
        .limit(1)
    )
    if last is None:  # the final, shorter page
        last = await session.scalar(select(func.max(SegmentMember.customer_id)).where(SegmentMember.segment_id == segment_id))
        if last is None or last <= after_id:
            return []
    def bounded(column: Any) -> Any:
        return and_(column > after_id, column <= last)

    columns = facts_query(
        alerts=alerts, churn_reason=churn_reason, alert_types=alert_types, dialect=dialect_name(session)
    ).selected_columns
    query = (
        select(*columns)
        .select_from(Customer)
        .join(SegmentMember, and_(SegmentMember.customer_id == Customer.id, SegmentMember.segment_id == segment_id,
                                  bounded(SegmentMember.customer_id)))
        .outerjoin(CustomerScores, and_(CustomerScores.customer_id == Customer.id, bounded(CustomerScores.customer_id)))
        .outerjoin(CustomerMetrics, and_(CustomerMetrics.customer_id == Customer.id, bounded(CustomerMetrics.customer_id)))
        .where(bounded(Customer.id), Customer.erased_at.is_(None))
        .order_by(Customer.id)
    )
    return list((await session.execute(query)).all())


async def segment_ids(session: AsyncSession, segment_key: str, after_id: int, limit: int) -> list[int]:
    """A page of a segment's member ids, in id order."""
    segment_id = select(Segment.id).where(Segment.key == segment_key).scalar_subquery()
    query = (
        select(SegmentMember.customer_id)
        .where(SegmentMember.segment_id == segment_id, SegmentMember.customer_id > after_id)
        .order_by(SegmentMember.customer_id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def targets(session: AsyncSession, campaign_id: int, offset: int, limit: int) -> list[Row[Any]]:
    """The campaign's decisions in rank order (they were logged best first)."""
    query = select(*DECISION_ROW).where(Decision.campaign_id == campaign_id).order_by(Decision.id).offset(offset).limit(limit)
    return list((await session.execute(query)).all())


async def lever_outcomes(session: AsyncSession, campaign_id: int) -> list[Row[Any]]:
    """Per lever: targets, activated, outcomes, accepted, revenue of accepted offers."""
    accepted = Outcome.accepted.is_(True)
    query = (
        select(
            Decision.lever_key,
            func.count(Decision.id).label("targets"),
            func.count(Decision.activated_at).label("activated"),
            func.count(Outcome.id).label("outcomes"),
            func.count(Outcome.id).filter(accepted).label("accepted"),
            func.coalesce(func.sum(Outcome.revenue).filter(accepted), 0.0).label("revenue"),
        )
        .outerjoin(Outcome, Outcome.decision_id == Decision.id)
        .where(Decision.campaign_id == campaign_id)
        .group_by(Decision.lever_key)
        .order_by(Decision.lever_key)
    )
    return list((await session.execute(query)).all())
