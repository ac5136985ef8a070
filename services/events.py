"""Event use cases: bulk recording with idempotency, and the customer timeline."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import customers as customer_repo
from db.write_gate import WriteGate, held
from db.repositories import events as repo
from services import cursors, mapping
from services.domain import BulkResult, Event, EventDraft, ItemError, Page
from services.errors import InvalidInput
from services.validation import check_batch_size, check_event, split_checked

MAX_TIMELINE_PAGE = 200

# The lifecycle pass: (session, touched customer ids, the events just logged).
OnRecorded = Callable[[AsyncSession, set[int], Sequence[Any]], Awaitable[object]]


class Events:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        on_recorded: OnRecorded | None = None,
        write_gate: WriteGate | None = None,
        lookups: async_sessionmaker[AsyncSession] | None = None,
        writes: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessions = sessionmaker
        self._lookups = lookups or sessionmaker  # timeline reads (db.session.make_lookup_sessionmaker)
        # The insert and its lifecycle pass: on the write gate's own connection where there is
        # one (db.session.make_writer_engine).
        self._writes = writes or sessionmaker
        self._gate = write_gate
        # The lifecycle pass: runs in the same transaction, after the insert, for touched customers.
        self._on_recorded = on_recorded
        # Calls of record_many running now, and when the last one ended (time.monotonic): the
        # server's lifecycle drainer keeps out of the way of ingestion (api.lifecycle_runtime).
        self.in_flight = 0
        self.last_done: float | None = None

    async def record_many(self, drafts: Sequence[EventDraft]) -> BulkResult:
        """Append events to customers' timelines in one transaction.

        Valid items are written and each invalid one is reported by index. An event whose
        idempotency key is already stored (or repeats earlier in the call) is counted as a
        duplicate and stored once.
        """
        self.in_flight += 1
        try:
            return await self._record_many(drafts)
        finally:
            self.in_flight -= 1
            self.last_done = time.monotonic()

    async def _record_many(self, drafts: Sequence[EventDraft]) -> BulkResult:
        check_batch_size(list(drafts))
        now = datetime.now(UTC)
        valid, errors = split_checked(drafts, lambda draft: check_event(draft, now))

        async with self._sessions() as session:
            ids = await customer_repo.ids_by_external_ids(session, {d.external_id for _, d in valid})
            rows: list[dict[str, Any]] = []
            seen_keys: set[str] = set()
            duplicates = 0
            for index, draft in valid:
                customer_id = ids.get(draft.external_id)
                if customer_id is None:
                    message = f"no customer with externalId {draft.external_id!r}"
                    errors.append(ItemError(index, "externalId", message))
                    continue
                if draft.idempotency_key is not None:
                    if draft.idempotency_key in seen_keys:
                        duplicates += 1
                        continue
                    seen_keys.add(draft.idempotency_key)
                rows.append(_row(draft, customer_id, now))
            batch = repo.prepare(session, rows)
        logged = await self._insert(batch) if rows else []
        inserted = len(logged)
        duplicates += len(rows) - inserted
        return BulkResult(
            accepted=inserted,
            duplicates=duplicates,
            errors=tuple(sorted(errors, key=lambda e: e.index or 0)),
        )

    async def _insert(self, batch: repo.PreparedEvents) -> list[Any]:
        """Insert a prepared batch and run its lifecycle pass in one committed transaction, holding
        the write gate; returns the events it stored (a replayed idempotency key stores nothing)."""
        # The insert takes SQLite's one write lock until the commit: queue for it only now,
        # after the lookup and the conversion, so the next batch's lookup and conversion overlap
        # this batch's writes.
        async with held(self._gate), self._writes.begin() as session:
            logged = await repo.insert_prepared(session, batch)
            if self._on_recorded is not None and logged:
                await self._on_recorded(session, {row.customer_id for row in logged}, logged)
            return logged

    async def latest(self, customer_ids: Sequence[int], n: int) -> dict[int, list[Event]]:
        """The ``n`` newest events per customer, for the customer view's first timeline page."""
        async with self._lookups() as session:
            rows = await repo.latest_for(session, customer_ids, n)
        return mapping.events_by_customer(rows)

    async def timeline(self, customer_id: int, *, first: int, after: str | None) -> Page[Event]:
        """A customer's events, newest first, one keyset page at a time."""
        if not 1 <= first <= MAX_TIMELINE_PAGE:
            raise InvalidInput("first", f"must be between 1 and {MAX_TIMELINE_PAGE}, got {first}")
        position = cursors.decode(after) if after else None
        async with self._lookups() as session:
            rows = await repo.timeline_page(session, customer_id, position, first + 1)
        page = mapping.events(rows[:first])
        return Page(
            items=tuple(page),
            keys=tuple((event.occurred_at, event.id) for event in page),
            has_next=len(rows) > first,
        )


def _row(draft: EventDraft, customer_id: int, now: datetime) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "type": draft.type,
        "occurred_at": draft.occurred_at,
        "recorded_at": now,
        "amount": draft.amount,
        "currency": draft.currency,
        "category": draft.category,
        "score": draft.score,
        "channel": draft.channel,
        "direction": draft.direction,
        "reason": draft.reason,
        "payload": draft.payload or {},
        "idempotency_key": draft.idempotency_key,
    }
