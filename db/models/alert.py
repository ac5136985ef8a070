"""Churn alarms raised on customers, and their handling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, utcnow

ALERT_TYPES = ("NEGATIVE_SURVEY", "COMPLAINT", "CANCELLATION_REQUEST", "INACTIVITY")
ALERT_STATUSES = ("OPEN", "ACTIONED", "RESOLVED", "EXPIRED")
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
ACTIONS = ("RETENTION", "RECOVERY")
ACTIVE_WHERE = "status IN ('OPEN', 'ACTIONED')"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(_in("type", ALERT_TYPES), name="type"),
        CheckConstraint(_in("status", ALERT_STATUSES), name="status"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        CheckConstraint(_in("action", ACTIONS), name="action"),
        # One active alert per cause: the database, not a read-then-write, forbids a duplicate.
        Index(
            "ix_alerts_active_cause",
            "customer_id",
            "type",
            unique=True,
            sqlite_where=text(ACTIVE_WHERE),
            postgresql_where=text(ACTIVE_WHERE),
        ),
        # The same evidence never raises the same alarm twice, even after it was resolved.
        Index("ix_alerts_customer_id_type_evidence", "customer_id", "type", "evidence_event_id", unique=True),
        Index("ix_alerts_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="OPEN")
    action: Mapped[str] = mapped_column(String(10))
    evidence_event_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="SET NULL")
    )
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(500))
