"""Alert use cases: the alert desk (lists, the customer's alerts) and handling by operators."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import alerts as repo
from services import cursors
from services.domain import Page
from services.errors import InvalidInput, ServiceError
from services.lifecycle.refresh import alert_of
from services.lifecycle.service import Clock
from services.lifecycle.values import Alert, AlertFilter

MAX_PAGE = 500


class AlertNotFound(ServiceError):
    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no alert with id {alert_id}")
        self.alert_id = alert_id


class AlertClosed(ServiceError):
    """The alert was already resolved or expired: there is nothing left to act on."""

    def __init__(self, alert_id: int, status: str) -> None:
        super().__init__(f"alert {alert_id} is {status}")
        self.alert_id = alert_id
        self.status = status


class Alerts:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessionmaker
        self._clock = clock

    async def page(self, where: AlertFilter, *, first: int = 50, after: str | None = None) -> Page[Alert]:
        """Alerts matching ``where``, newest first, keyset-paginated."""
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInput("first", f"must be between 1 and {MAX_PAGE}, got {first}")
        position = _decode(after) if after else None
        terms = repo.filtered(status=where.status, type_=where.type, stage=where.stage, tier=where.tier)
        async with self._sessions() as session:
            rows = await repo.page(session, terms, position, first + 1)
        items = tuple(alert_of(r) for r in rows[:first])
        return Page(items=items, keys=tuple((a.id, a.id) for a in items), has_next=len(rows) > first)

    async def of_customers(self, customer_ids: Sequence[int]) -> dict[int, list[Alert]]:
        async with self._sessions() as session:
            rows = await repo.for_customers(session, list(set(customer_ids)))
        found: dict[int, list[Alert]] = {}
        for row in rows:
            found.setdefault(row.customer_id, []).append(alert_of(row))
        return found

    async def action(self, alert_id: int, note: str | None) -> Alert:
        """Mark an open alert as being worked on; it stays active (no duplicate is raised)."""
        return await self._move(alert_id, "ACTIONED", note)

    async def resolve(self, alert_id: int, note: str | None) -> Alert:
        """Close an alert by hand. The same evidence never raises it again."""
        return await self._move(alert_id, "RESOLVED", note)

    async def _move(self, alert_id: int, status: str, note: str | None) -> Alert:
        if note is not None and len(note) > 500:
            raise InvalidInput("note", "must be at most 500 characters")
        now: datetime = self._clock()
        async with self._sessions.begin() as session:
            row = await repo.by_id(session, alert_id)
            if row is None:
                raise AlertNotFound(alert_id)
            if row.status not in repo.ACTIVE:
                raise AlertClosed(alert_id, row.status)
            row.status, row.updated_at = status, now
            if note is not None:
                row.note = note
            if status == "RESOLVED":
                row.resolved_at = now
            await session.flush()
            return alert_of(row)


def _decode(cursor: str) -> int:
    _, last_id = cursors.decode(cursor)
    return last_id
