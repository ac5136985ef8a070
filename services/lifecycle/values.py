"""Frozen lifecycle values passed from the services to the API."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    customer_id: int
    type: str
    severity: str
    status: str
    action: str
    evidence_event_id: int | None
    raised_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AlertFilter:
    status: str | None = None
    type: str | None = None
    stage: str | None = None
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class Rfm:
    recency: int
    frequency: int
    monetary: int
    segment: str


@dataclass(frozen=True, slots=True)
class Standing:
    """A customer's lifecycle standing for the customer view."""

    customer_id: int
    rfm: Rfm | None
    value_tier: str | None
    last_purchase_at: datetime | None
    purchase_rhythm_days: float | None
    purchase_count: int = 0


def standings_from(customer_ids: Sequence[int], rows: Iterable[Any]) -> dict[int, Standing]:
    """Each customer's standing from its ``standing_rows`` row (db.repositories.lifecycle); a
    customer without a row (none stored) gets an empty standing."""
    by_id = {row.customer_id: row for row in rows}
    found = {}
    for cid in customer_ids:
        row = by_id.get(cid)
        if row is None:
            found[cid] = Standing(cid, None, None, None, None, 0)
            continue
        rfm = None
        if row.recency is not None:
            rfm = Rfm(row.recency, row.frequency or 1, row.monetary or 1, row.rfm_segment or "HIBERNATING")
        found[cid] = Standing(
            customer_id=cid,
            rfm=rfm,
            value_tier=row.value_tier,
            last_purchase_at=row.last_purchase_at,
            purchase_rhythm_days=row.median_gap_days,
            purchase_count=row.purchase_count or 0,
        )
    return found


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    customers: int = 0
    moved: int = 0
    raised: tuple[Alert, ...] = ()
    resolved: int = 0
    expired: int = 0
    segments_changed: int = 0
    stages: dict[str, int] = field(default_factory=dict)
    # Customers whose facts were derived from their whole timeline (the rest were merged forward).
    derived: int = 0
