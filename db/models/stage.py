"""Stage history: every move of a customer between lifecycle stages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, utcnow


class StageChange(Base):
    __tablename__ = "stage_changes"
    __table_args__ = (Index("ix_stage_changes_customer_id_at", "customer_id", "at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(500))
    # Who moved it: "operator" for setStage, or the name of the lifecycle rule that fired.
    rule: Mapped[str] = mapped_column(String(100), default="operator")
