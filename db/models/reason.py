"""Why customers leave and why prospects drop out: the taxonomy and the recorded reasons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, utcnow

REASON_KINDS = ("CHURN", "LOST_PROSPECT")


class ReasonCode(Base):
    __tablename__ = "reason_codes"
    __table_args__ = (CheckConstraint("kind IN ('CHURN', 'LOST_PROSPECT')", name="kind"),)

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerReason(Base):
    __tablename__ = "customer_reasons"
    __table_args__ = (
        CheckConstraint("kind IN ('CHURN', 'LOST_PROSPECT')", name="kind"),
        Index("ix_customer_reasons_customer_id_kind_at", "customer_id", "kind", "at", "id"),
        Index("ix_customer_reasons_kind_at", "kind", "at"),
        # An event states its reason once, however often the lifecycle pass sees it.
        Index("ix_customer_reasons_event_id", "event_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(50))
    text: Mapped[str | None] = mapped_column(String(500))
    event_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("events.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
