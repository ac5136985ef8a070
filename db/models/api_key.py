"""API keys: who may call the service, in which role. Only a hash of each key is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, utcnow

ROLES = ("FRONTEND", "CAMPAIGN", "ANALYST", "ADMIN")


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("role IN ('FRONTEND', 'CAMPAIGN', 'ANALYST', 'ADMIN')", name="role"),
        Index("ix_api_keys_key_hash", "key_hash", unique=True),
        Index("ix_api_keys_name", "name"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    # SHA-256 hex of the whole key: keys are random and long, so no salt or slow hash is needed.
    key_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
