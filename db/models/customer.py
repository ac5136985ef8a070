"""The customer aggregate: profile, caller attributes, acquisition and current lifecycle stage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, utcnow

STAGES = ("AWARENESS", "ACQUISITION", "CONVERSION", "GROWTH", "RETENTION", "CHURNED", "REACTIVATED")
CHANNELS = ("WORD_OF_MOUTH", "REFERRAL", "ADVERTISING", "DIRECT", "PARTNER", "OTHER")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(_in("stage", STAGES), name="stage"),
        CheckConstraint(_in("acquisition_channel", CHANNELS), name="acquisition_channel"),
        # Keyset pagination: a filtered page is one index range scan.
        Index("ix_customers_stage_id", "stage", "id"),
        Index("ix_customers_stage_created_at_id", "stage", "created_at", "id"),
        Index("ix_customers_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    region: Mapped[str | None] = mapped_column(String(100))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    acquisition_channel: Mapped[str] = mapped_column(String(20), default="OTHER")
    referred_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    stage: Mapped[str] = mapped_column(String(20), default="AWARENESS")
    stage_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(default=None)
