"""ORM rows to frozen domain values, at the edge of the service layer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from services import domain

# Accepts ORM instances and Core rows alike: both expose columns as attributes.
Row = Any

# The domain values' fields, which are also their tables' columns in table order: the repositories
# select ``tuple(Table.c)``, so their Core rows can be read by position (see ``customers``).
_CUSTOMER_FIELDS = tuple(f.name for f in fields(domain.Customer))
_EVENT_FIELDS = tuple(f.name for f in fields(domain.Event))


def _by_position(rows: Sequence[Row], names: tuple[str, ...]) -> bool:
    """Whether ``rows`` are Core rows with exactly the columns ``names``, in that order (one
    statement's rows share their columns, so the first row tells)."""
    return bool(rows) and getattr(rows[0], "_fields", None) == names


def customers(rows: Sequence[Row]) -> list[domain.Customer]:
    """``customer`` for many rows. Core rows of the table's columns are unpacked by position:
    reading a Row's columns as attributes cost three times as much as building the values."""
    if not _by_position(rows, _CUSTOMER_FIELDS):
        return [customer(row) for row in rows]
    make = domain.Customer
    return [
        make(id_, ext, name, email, phone, region, dict(attrs or {}), channel, referrer, stage, changed, created, updated, erased)
        for id_, ext, name, email, phone, region, attrs, channel, referrer, stage, changed, created, updated, erased in rows
    ]


def events(rows: Sequence[Row]) -> list[domain.Event]:
    """``event`` for many rows, unpacked by position like ``customers``."""
    if not _by_position(rows, _EVENT_FIELDS):
        return [event(row) for row in rows]
    make = domain.Event
    return [
        make(id_, owner, type_, occurred, recorded, amount, currency, category, score, channel, direction, reason, dict(payload or {}), key)
        for id_, owner, type_, occurred, recorded, amount, currency, category, score, channel, direction, reason, payload, key in rows
    ]


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


def events_by_customer(rows: Sequence[Row]) -> dict[int, list[domain.Event]]:
    """``events`` grouped by customer id, in row order within each customer."""
    found: dict[int, list[domain.Event]] = {}
    for item in events(rows):
        found.setdefault(item.customer_id, []).append(item)
    return found


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
