"""Customers whose lifecycle pass is owed: large event batches enqueue them, a worker drains them."""

from __future__ import annotations

from datetime import datetime
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, JsonDocument, utcnow


class LifecycleQueueEntry(Base):
    """One event batch's customers. One row per batch, not per customer: a row per customer cost
    a sixth of a 1,000-event batch. Ids of customers erased meanwhile are skipped by the pass."""

    __tablename__ = "lifecycle_queue"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_ids: Mapped[list[int]] = mapped_column(JsonDocument)
    # The batch's events, so the drainer merges just them into the stored facts; None (customer
    # upserts) makes the drainer re-derive those customers' facts from their timelines.
    event_ids: Mapped[list[int] | None] = mapped_column(JsonDocument)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
