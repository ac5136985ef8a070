"""The append-only customer timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, utcnow

EVENT_TYPES = (
    "PURCHASE",
    "COMPLAINT",
    "SURVEY",
    "CONTACT",
    "SIGNUP",
    "TRIAL_STARTED",
    "SUBSCRIPTION_CANCELLED",
    "CUSTOM",
)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(f"type IN ({', '.join(repr(t) for t in EVENT_TYPES)})", name="type"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 10)", name="score_range"),
        # The timeline read: a customer's newest events first.
        Index("ix_events_customer_id_occurred_at", "customer_id", "occurred_at", "id"),
        Index("ix_events_type_occurred_at", "type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    amount: Mapped[float | None] = mapped_column(Numeric(14, 2, asdecimal=False))
    currency: Mapped[str | None] = mapped_column(String(3))
    category: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[int | None] = mapped_column(SmallInteger)
    channel: Mapped[str | None] = mapped_column(String(30))
    direction: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
