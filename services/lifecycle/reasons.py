"""Reason use cases: the taxonomy, reasons set by hand, the customer's latest, the breakdown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models.reason import REASON_KINDS
from db.repositories import customers as customer_repo
from db.repositories import reasons as repo
from services.errors import CustomerNotFound, InvalidInput
from services.lifecycle.service import Clock

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")


@dataclass(frozen=True, slots=True)
class ReasonCode:
    kind: str
    code: str
    label: str


@dataclass(frozen=True, slots=True)
class Reason:
    customer_id: int
    kind: str
    code: str
    text: str | None
    at: datetime
    event_id: int | None


@dataclass(frozen=True, slots=True)
class ReasonShare:
    code: str
    count: int
    share: float


def _reason(row: object) -> Reason:
    return Reason(
        customer_id=row.customer_id, kind=row.kind, code=row.code,  # type: ignore[attr-defined]
        text=row.text, at=row.at, event_id=row.event_id,  # type: ignore[attr-defined]
    )


class Reasons:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessionmaker
        self._clock = clock

    async def codes(self, kind: str | None = None) -> list[ReasonCode]:
        async with self._sessions() as session:
            rows = await repo.codes(session, kind)
        return [ReasonCode(r.kind, r.code, r.label) for r in rows]

    async def add_code(self, kind: str, code: str, label: str) -> ReasonCode:
        """Extend the taxonomy (or relabel a code): codes are UPPER_SNAKE_CASE."""
        _check_kind(kind)
        if not _CODE.match(code):
            raise InvalidInput("code", "must be UPPER_SNAKE_CASE, 1-50 characters")
        if not label.strip() or len(label) > 200:
            raise InvalidInput("label", "must be 1-200 characters")
        async with self._sessions.begin() as session:
            await repo.add_code(session, kind, code, label, self._clock())
        return ReasonCode(kind, code, label)

    async def record(
        self, external_id: str, kind: str, code: str, text: str | None, at: datetime | None = None
    ) -> Reason:
        """Record why a customer left (CHURN) or a prospect dropped out (LOST_PROSPECT)."""
        _check_kind(kind)
        if text is not None and len(text) > 500:
            raise InvalidInput("text", "must be at most 500 characters")
        if at is not None and at.tzinfo is None:
            raise InvalidInput("at", "must carry a time zone")
        async with self._sessions.begin() as session:
            if not await repo.code_exists(session, kind, code):
                raise InvalidInput("code", f"unknown {kind} reason {code!r}; add it to the taxonomy first")
            customer = await customer_repo.by_external_id(session, external_id)
            if customer is None:
                raise CustomerNotFound(external_id=external_id)
            now = self._clock()
            row = await repo.add_reason(session, {
                "customer_id": customer.id, "kind": kind, "code": code, "text": text,
                "event_id": None, "at": at or now, "recorded_at": now,
            })
            return _reason(row)

    async def latest(self, customer_ids: Sequence[int], kind: str = "CHURN") -> dict[int, Reason]:
        async with self._sessions() as session:
            rows = await repo.latest_for(session, list(set(customer_ids)), kind)
        return {row.customer_id: _reason(row) for row in rows}

    async def breakdown(
        self, kind: str, start: datetime | None, end: datetime | None, segment_key: str | None
    ) -> list[ReasonShare]:
        """Customers per reason (each counted once, by their latest reason in range), with shares."""
        _check_kind(kind)
        async with self._sessions() as session:
            counts = await repo.breakdown(session, kind, start, end, segment_key)
        total = sum(n for _, n in counts)
        return [ReasonShare(code, n, n / total if total else 0.0) for code, n in counts]


def _check_kind(kind: str) -> None:
    if kind not in REASON_KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(REASON_KINDS)}, got {kind!r}")
