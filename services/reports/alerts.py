"""Alerts raised per period, by type: how much churn signal the desk receives over time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import alert_reports as repo
from db.repositories.lever_reports import period_date
from services.errors import InvalidInput
from services.reports.values import AlertCount


class AlertReports:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessionmaker

    async def raised(self, interval: str, start: datetime | None = None, end: datetime | None = None) -> list[AlertCount]:
        """Alerts raised per period (UTC day or ISO week) and type, whatever their status now."""
        if start is not None and end is not None and start >= end:
            raise InvalidInput("to", f"must be after from ({start.isoformat()}), got {end.isoformat()}")
        async with self._sessions() as session:
            rows = await repo.raised_per_period(session, start, end, interval)
        return [AlertCount(period_date(period), kind, int(n)) for period, kind, n in rows]
