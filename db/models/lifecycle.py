"""Lifecycle facts derived from the timeline: per-customer metrics, value scores and the config.

``customer_metrics`` is a pure function of a customer's events (and the lifecycle config): it is
rebuilt for the customers a batch of events touches, and for everyone by a full recompute.
``customer_scores`` is relative to the whole population (quintiles, tiers), so only full
recomputes and the periodic sweep rewrite it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, Numeric, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, JsonDocument, utcnow


class CustomerMetrics(Base):
    __tablename__ = "customer_metrics"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    signup_at: Mapped[datetime | None]
    first_purchase_at: Mapped[datetime | None]
    second_purchase_at: Mapped[datetime | None]
    # The purchase that completes the retention count (K-th purchase, K from the config).
    kth_purchase_at: Mapped[datetime | None]
    last_purchase_at: Mapped[datetime | None]
    last_purchase_event_id: Mapped[int | None] = mapped_column(BigId)
    purchase_count: Mapped[int] = mapped_column(Integer, default=0)
    monetary_total: Mapped[float] = mapped_column(Numeric(16, 2, asdecimal=False), default=0)
    median_gap_days: Mapped[float | None] = mapped_column(Float)
    last_cancel_at: Mapped[datetime | None]
    last_cancel_event_id: Mapped[int | None] = mapped_column(BigId)
    last_complaint_at: Mapped[datetime | None]
    last_complaint_event_id: Mapped[int | None] = mapped_column(BigId)
    last_survey_at: Mapped[datetime | None]
    last_survey_score: Mapped[int | None] = mapped_column(SmallInteger)
    last_survey_event_id: Mapped[int | None] = mapped_column(BigId)
    # The latest purchase made while churned (after a cancellation or a gap over the horizon).
    last_reactivation_at: Mapped[datetime | None]
    # Every purchase as [time in microseconds since the Unix epoch, event id], in that order: with
    # them a new purchase, even a late one that lands between two stored ones, is merged into the
    # ranks, the gaps and their median (the purchase rhythm) without a re-read of the timeline,
    # and one the facts hold already is recognised by its id.
    purchase_keys: Mapped[list[int] | None] = mapped_column(JsonDocument)
    # The config values the facts were derived with (K-th purchase, churn horizon): facts derived
    # with other values are re-derived from the timeline before anything is merged into them.
    facts_basis: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerScores(Base):
    __tablename__ = "customer_scores"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    recency: Mapped[int | None] = mapped_column(SmallInteger)
    frequency: Mapped[int | None] = mapped_column(SmallInteger)
    monetary: Mapped[int | None] = mapped_column(SmallInteger)
    rfm_segment: Mapped[str | None] = mapped_column(String(30))
    value_tier: Mapped[str] = mapped_column(String(10), default="BRONZE")
    window_monetary: Mapped[float] = mapped_column(Numeric(16, 2, asdecimal=False), default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class LifecycleSetting(Base):
    """Named JSON documents: the lifecycle config set by `configureLifecycle` lives under "config"."""

    __tablename__ = "lifecycle_settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
