"""The raw facts behind a customer's offer features, for many customers in one statement."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name
from db.models import Alert, Customer, CustomerMetrics, CustomerReason, CustomerScores
from db.models.alert import ACTIVE_WHERE

_ACTIVE_STATUSES = ("OPEN", "ACTIONED")
assert all(status in ACTIVE_WHERE for status in _ACTIVE_STATUSES)


def _query(*, alerts: bool, churn_reason: bool, alert_types: bool = False, dialect: str = "sqlite") -> Any:
    # Plain columns of rows already joined cost next to nothing: eligibility rules and the
    # customer's order value read them without another round trip.
    columns: list[Any] = [
        Customer.id,
        Customer.external_id,
        Customer.name,
        Customer.email,
        Customer.phone,
        Customer.region,
        Customer.stage,
        Customer.acquisition_channel,
        Customer.attributes,
        Customer.created_at,
        CustomerScores.value_tier,
        CustomerScores.recency,
        CustomerScores.frequency,
        CustomerScores.monetary,
        CustomerScores.rfm_segment,
        CustomerMetrics.first_purchase_at,
        CustomerMetrics.last_purchase_at,
        CustomerMetrics.purchase_count,
        CustomerMetrics.monetary_total,
        CustomerMetrics.median_gap_days,
        CustomerMetrics.last_survey_score,
    ]
    # The correlated counts cost a probe per customer: only decision points that use them pay.
    if alerts:
        columns.append(
            select(func.count(Alert.id))
            .where(Alert.customer_id == Customer.id, Alert.status.in_(_ACTIVE_STATUSES))
            .scalar_subquery()
            .label("open_alerts")
        )
    if alert_types:
        concat = func.string_agg if dialect == "postgresql" else func.group_concat
        columns.append(
            select(concat(Alert.type, ","))
            .where(Alert.customer_id == Customer.id, Alert.status.in_(_ACTIVE_STATUSES))
            .scalar_subquery()
            .label("open_alert_types")
        )
    if churn_reason:
        columns.append(
            select(CustomerReason.code)
            .where(CustomerReason.customer_id == Customer.id, CustomerReason.kind == "CHURN")
            .order_by(CustomerReason.at.desc(), CustomerReason.id.desc())
            .limit(1)
            .scalar_subquery()
            .label("churn_reason")
        )
    return (
        select(*columns)
        .outerjoin(CustomerScores, CustomerScores.customer_id == Customer.id)
        .outerjoin(CustomerMetrics, CustomerMetrics.customer_id == Customer.id)
    )


@functools.lru_cache(maxsize=64)
def _by_key(column: str, alerts: bool, churn_reason: bool, alert_types: bool, dialect: str) -> Any:
    """The facts statement for one set of options, built once: building it cost more than running it."""
    key = Customer.external_id if column == "external_id" else Customer.id
    query = _query(alerts=alerts, churn_reason=churn_reason, alert_types=alert_types, dialect=dialect)
    return query.where(key.in_(bindparam("keys", expanding=True)), Customer.erased_at.is_(None))


async def facts_by_external_ids(
    session: AsyncSession, external_ids: Sequence[str], *, alerts: bool, churn_reason: bool, alert_types: bool = False
) -> list[Row[Any]]:
    query = _by_key("external_id", alerts, churn_reason, alert_types, dialect_name(session))
    # Core execution on the session's connection: the statement selects columns only, and the
    # ORM's result handling cost a sixth of reading 1,000 rows.
    connection = await session.connection()
    return list((await connection.execute(query, {"keys": list(external_ids)})).all())


async def facts_by_ids(
    session: AsyncSession, ids: Sequence[int], *, alerts: bool, churn_reason: bool, alert_types: bool = False
) -> list[Row[Any]]:
    query = _by_key("id", alerts, churn_reason, alert_types, dialect_name(session))
    connection = await session.connection()
    return list((await connection.execute(query, {"keys": list(ids)})).all())


async def sample(session: AsyncSession, size: int, *, alerts: bool, churn_reason: bool) -> list[Row[Any]]:
    """The newest ``size`` customers: a deterministic sample to fit feature encoders on."""
    query = _query(alerts=alerts, churn_reason=churn_reason).where(Customer.erased_at.is_(None))
    return list((await session.execute(query.order_by(Customer.id.desc()).limit(size))).all())


async def segment_members(session: AsyncSession, segment_key: str, after_id: int, limit: int) -> list[Row[Any]]:
    """(customer id, externalId) of a segment's members after ``after_id``, in id order."""
    from db.models import Segment, SegmentMember

    query = (
        select(Customer.id, Customer.external_id)
        .join(SegmentMember, SegmentMember.customer_id == Customer.id)
        .join(Segment, Segment.id == SegmentMember.segment_id)
        .where(Segment.key == segment_key, Customer.id > after_id, Customer.erased_at.is_(None))
        .order_by(Customer.id)
        .limit(limit)
    )
    return list((await session.execute(query)).all())


async def segment_exists(session: AsyncSession, segment_key: str) -> bool:
    from db.models import Segment

    return await session.scalar(select(Segment.id).where(Segment.key == segment_key)) is not None
