"""Rule-segment membership, refreshed set-based: INSERT…SELECT the matches, DELETE the rest.

Members who still match keep their original ``added_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import BigId, UtcDateTime
from db.dialect import dialect_name, insert_for
from db.models import Customer, CustomerMetrics, CustomerScores, Segment, SegmentMember
from db.repositories.lifecycle import in_scope
from services.lifecycle.config import LifecycleConfig
from services.lifecycle.segment_rules import compile_rule


def matching(condition: ColumnElement[bool], *columns: Any) -> Any:
    """SELECT ``columns`` of live customers matching ``condition`` (metrics and scores joined)."""
    return (
        select(*(columns or (Customer.id,)))
        .select_from(Customer)
        .outerjoin(CustomerMetrics, CustomerMetrics.customer_id == Customer.id)
        .outerjoin(CustomerScores, CustomerScores.customer_id == Customer.id)
        .where(Customer.erased_at.is_(None), condition)
    )


async def refresh_rule_segments(
    session: AsyncSession, customer_ids: Sequence[int] | None, now: datetime, config: LifecycleConfig
) -> int:
    """Re-evaluate every rule segment for ``customer_ids`` (everyone when None). Returns changes."""
    segments = (await session.execute(select(Segment.id, Segment.rule).where(Segment.rule.is_not(None)))).all()
    changed = 0
    for segment_id, rule in segments:
        changed += await refresh_segment(session, segment_id, rule, customer_ids, now)
    return changed


async def refresh_segment(
    session: AsyncSession, segment_id: int, rule: Any, customer_ids: Sequence[int] | None, now: datetime
) -> int:
    dialect = dialect_name(session)
    condition = compile_rule(rule, dialect=dialect, now=now)
    scope = in_scope(Customer.id, list(customer_ids) if customer_ids is not None else None)
    match = matching(condition, Customer.id).where(scope)
    gone = (
        delete(SegmentMember)
        .where(
            SegmentMember.segment_id == segment_id,
            in_scope(SegmentMember.customer_id, list(customer_ids) if customer_ids is not None else None),
            ~match.where(Customer.id == SegmentMember.customer_id).exists(),
        )
    )
    removed = (await session.execute(gone)).rowcount or 0
    source = matching(
        condition,
        literal(segment_id, BigId),
        Customer.id,
        literal(now, UtcDateTime()),
    ).where(scope)
    statement = insert_for(session, SegmentMember).from_select(["segment_id", "customer_id", "added_at"], source)
    added = (await session.execute(statement.on_conflict_do_nothing())).rowcount or 0
    return int(removed) + max(int(added), 0)
