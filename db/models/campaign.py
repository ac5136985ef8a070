"""Cross-sell campaigns: a ranked target list decided under one id (``decisions.campaign_id``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, utcnow


class Campaign(Base):
    """``ranked``: segment members scored; ``targeted``: decisions logged; ``skipped``: members
    passed over, by reason (contactPolicy, budget, features)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    decision_point_key: Mapped[str] = mapped_column(String(64))
    segment_key: Mapped[str] = mapped_column(String(64))
    target_limit: Mapped[int] = mapped_column(Integer)
    defer_activation: Mapped[bool] = mapped_column(Boolean, default=True)
    ranked: Mapped[int] = mapped_column(Integer, default=0)
    targeted: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
