"""Customers whose lifecycle pass is owed: large event batches enqueue them, a worker drains them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, utcnow


class LifecycleQueueEntry(Base):
    __tablename__ = "lifecycle_queue"
    __table_args__ = (Index("ix_lifecycle_queue_customer_id", "customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
