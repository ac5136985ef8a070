"""Alert counts per period for the analysts' reports. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name
from db.models import Alert
from db.repositories.lever_reports import period_start


async def raised_per_period(
    session: AsyncSession, start: datetime | None, end: datetime | None, interval: str
) -> list[Row[Any]]:
    """One row per (period, alert type): (period, type, raised), by the time each alert was raised."""
    period = period_start(Alert.raised_at, interval, dialect_name(session))
    query = select(period.label("period"), Alert.type, func.count(Alert.id))
    if start is not None:
        query = query.where(Alert.raised_at >= start)
    if end is not None:
        query = query.where(Alert.raised_at < end)
    query = query.group_by(period, Alert.type).order_by(period, Alert.type)
    return list((await session.execute(query)).all())
