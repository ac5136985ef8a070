"""Campaigns: their rows, the segment scan they rank, their targets and outcomes. Never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Campaign, Customer, Decision, Outcome, Segment, SegmentMember
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
    session: AsyncSession, segment_key: str, after_id: int, limit: int, *, alerts: bool, churn_reason: bool
) -> list[Row[Any]]:
    """A page of a segment's members with their offer facts, in customer id order (one statement)."""
    segment_id = select(Segment.id).where(Segment.key == segment_key).scalar_subquery()
    query = (
        facts_query(alerts=alerts, churn_reason=churn_reason)
        .join(SegmentMember, SegmentMember.customer_id == Customer.id)
        .where(SegmentMember.segment_id == segment_id, Customer.id > after_id, Customer.erased_at.is_(None))
        .order_by(Customer.id)
        .limit(limit)
    )
    return list((await session.execute(query)).all())


async def segment_ids(session: AsyncSession, segment_key: str, after_id: int, limit: int) -> list[int]:
    """The baseline scan the ranking is compared with: member ids only."""
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
