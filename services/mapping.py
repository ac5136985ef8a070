"""ORM rows to frozen domain values, at the edge of the service layer."""

from __future__ import annotations

from typing import Any

from services import domain

# Accepts ORM instances and Core rows alike: both expose columns as attributes.
Row = Any


def customer(row: Row) -> domain.Customer:
    return domain.Customer(
        id=row.id,
        external_id=row.external_id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        region=row.region,
        attributes=dict(row.attributes or {}),
        acquisition_channel=row.acquisition_channel,
        referred_by_id=row.referred_by_id,
        stage=row.stage,
        stage_changed_at=row.stage_changed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        erased_at=row.erased_at,
    )


def event(row: Row) -> domain.Event:
    return domain.Event(
        id=row.id,
        customer_id=row.customer_id,
        type=row.type,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        amount=row.amount,
        currency=row.currency,
        category=row.category,
        score=row.score,
        channel=row.channel,
        direction=row.direction,
        reason=row.reason,
        payload=dict(row.payload or {}),
        idempotency_key=row.idempotency_key,
    )


def stage_change(row: Row) -> domain.StageChange:
    return domain.StageChange(
        id=row.id,
        customer_id=row.customer_id,
        from_stage=row.from_stage,
        to_stage=row.to_stage,
        at=row.at,
        reason=row.reason,
        rule=row.rule,
    )


def segment(row: Row, member_count: int | None = None) -> domain.Segment:
    return domain.Segment(
        id=row.id,
        key=row.key,
        name=row.name,
        description=row.description,
        member_count=member_count,
    )
