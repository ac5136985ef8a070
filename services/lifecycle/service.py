"""Lifecycle use cases: the pass on every event batch, full recompute, sweep and configuration."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.dialect import dialect_name, insert_for
from db.models import LifecycleSetting
from db.repositories import alerts as alert_repo
from db.repositories import lifecycle as repo
from db.repositories import events as event_repo
from db.repositories import lifecycle_queue as queue_repo
from db.base import utcnow
from db.write_gate import WriteGate, held
from services.lifecycle import broadcast, membership, scores
from services.lifecycle.broadcast import Broadcaster
from services.lifecycle.config import LifecycleConfig
from services.lifecycle.facts import LoggedEvent
from services.lifecycle.refresh import refresh
from services.lifecycle.values import Alert, RefreshOutcome, Standing, standings_from

CONFIG_KEY = "config"
RECOMPUTE_CHUNK = 20_000
# Batches touching more customers than this are processed in the background (see on_events).
DEFAULT_INLINE_MAX = 100
DRAIN_CHUNK = 5_000
# pg_try_advisory_xact_lock key: one sweeper at a time across workers ("ciclo" in ASCII).
SWEEP_LOCK = 0x6369636C6F
SCORES_LOCK = SWEEP_LOCK + 1
log = logging.getLogger("ciclo.lifecycle")

Clock = Callable[[], datetime]



class Lifecycle:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        base_config: LifecycleConfig | None = None,
        broadcaster: Broadcaster | None = None,
        clock: Clock = utcnow,
        inline_max: int = DEFAULT_INLINE_MAX,
        write_gate: WriteGate | None = None,
        lookups: async_sessionmaker[AsyncSession] | None = None,
        writes: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        if inline_max < 0:
            raise ValueError(f"`inline_max` must be >= 0, got {inline_max}")
        self._sessions = sessionmaker
        self._lookups = lookups or sessionmaker  # the view's standings (db.session.make_lookup_sessionmaker)
        self._gate = write_gate
        self._writes = writes or sessionmaker  # the write gate's connection (db.session.make_writer_engine)
        self._base = base_config or LifecycleConfig()
        self.broadcaster = broadcaster or Broadcaster()
        self.clock = clock
        self.inline_max = inline_max
        # Customers whose facts event passes merged forward / derived from the timeline, since start.
        self.facts_merged = 0
        self.facts_derived = 0
        # When this process last queued a batch, and since when its queue has not been found empty
        # (time.monotonic): how long the oldest batch it queued may have waited (api.lifecycle_runtime).
        self.last_queued: float | None = None
        self.backlog_since: float | None = None

    def now(self) -> datetime:
        """The lifecycle clock (tests pin it); the other lifecycle services read time through it."""
        return self.clock()

    # -- configuration -------------------------------------------------------------------------

    async def config(self) -> LifecycleConfig:
        """The thresholds in force: the file/env defaults with the admin's stored changes on top."""
        async with self._sessions() as session:
            return await self._config_in(session)

    async def _config_in(self, session: AsyncSession) -> LifecycleConfig:
        stored = await session.get(LifecycleSetting, CONFIG_KEY)
        return self._base.with_changes(stored.value) if stored and stored.value else self._base

    async def configure(self, changes: dict[str, Any]) -> LifecycleConfig:
        """Validate and store threshold changes (field-named errors); a full recompute applies them
        to every customer at once, and each later event batch applies them to its customers."""
        async with self._sessions.begin() as session:
            current = await self._config_in(session)
            updated = current.with_changes(changes)
            stored = {k: v for k, v in updated.as_dict().items() if v != getattr(self._base, k)}
            statement = insert_for(session, LifecycleSetting).values(
                key=CONFIG_KEY, value=stored, updated_at=self.clock()
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["key"], set_={"value": stored, "updated_at": self.clock()}
                )
            )
        return updated

    # -- passes --------------------------------------------------------------------------------

    async def on_events(
        self, session: AsyncSession, customer_ids: set[int], events: Sequence[LoggedEvent] | None = None
    ) -> RefreshOutcome:
        """The incremental pass for the customers an event batch touched.

        ``events`` are the events the batch logged (None when unknown, e.g. a customer upsert):
        with them the stored facts are merged forward instead of re-derived (see `refresh`).
        A batch touching at most ``inline_max`` customers is processed inside `recordEvents`'
        transaction, so the caller reads its own writes. A larger one (bulk loads, campaign feeds)
        only enqueues its customers and event ids in that transaction; the server's drainer runs
        the very same pass moments later (`drain`).
        """
        if not customer_ids:
            return RefreshOutcome()
        if len(customer_ids) > self.inline_max:
            event_ids = None if events is None else [e.id for e in events]
            await queue_repo.enqueue(session, sorted(customer_ids), self.clock(), event_ids)
            self.last_queued = time.monotonic()
            if self.backlog_since is None:
                self.backlog_since = self.last_queued
            return RefreshOutcome()
        return await self._pass(session, sorted(customer_ids), events)

    async def drain(self, *, limit: int = DRAIN_CHUNK) -> int:
        """Run the owed pass for the oldest queued batches (about ``limit`` customers) in one
        transaction; returns how many customers were processed (0 when the queue is empty or
        another worker holds it all)."""
        started = time.monotonic()
        # On SQLite the pass reads stored facts before its first write: behind the gate, no event
        # batch of this process (with its inline pass) can commit in between.
        async with held(self._gate), self._writes.begin() as session:
            taken = await queue_repo.take(session, limit)
            if not taken.entry_ids:
                if self.last_queued is None or self.last_queued < started:
                    self.backlog_since = None
                return 0
            # Customers erased since their batch was queued are simply absent from the pass.
            listed = [c for c in taken.customer_ids if c not in taken.unlisted]
            if listed:
                events = await event_repo.logged(session, taken.event_ids)
                await self._pass(session, listed, events)
            if taken.unlisted:
                await self._pass(session, sorted(taken.unlisted))
            await queue_repo.remove(session, taken.entry_ids)
        return len(taken.customer_ids)

    async def drain_all(self) -> int:
        """Drain until the queue is empty (CLI imports and tests); returns customers processed."""
        total = 0
        while done := await self.drain():
            total += done
        return total

    async def queued(self) -> int:
        async with self._sessions() as session:
            return await queue_repo.pending(session)

    async def _pass(
        self, session: AsyncSession, ids: list[int], events: Sequence[LoggedEvent] | None = None
    ) -> RefreshOutcome:
        config = await self._config_in(session)
        now = self.clock()
        outcome = await refresh(session, ids, now, config, events)
        self.facts_merged += outcome.customers - outcome.derived
        self.facts_derived += outcome.derived
        await membership.refresh_rule_segments(session, ids, now, config)
        await self._announce(session, list(outcome.raised))
        return outcome

    async def recompute(self, *, chunk: int = RECOMPUTE_CHUNK, scores_too: bool = True) -> RefreshOutcome:
        """Recompute everything from the timeline: metrics, stages, alerts and reasons chunk by
        chunk of customer ids, then value scores and every rule segment set-based."""
        async with self._sessions() as session:
            config = await self._config_in(session)
            bounds = await repo.id_bounds(session)
        now = self.clock()
        total = RefreshOutcome()
        if bounds is not None:
            for low in range(bounds[0], bounds[1] + 1, chunk):
                async with self._sessions.begin() as session:
                    part = await refresh(session, (low, low + chunk - 1), now, config)
                    await self._announce(session, list(part.raised))
                total = _merge(total, part)
        if scores_too:
            await self.rescore(now=now, config=config)
        return total

    async def rescore(
        self, *, now: datetime | None = None, config: LifecycleConfig | None = None, skip_if_busy: bool = False
    ) -> int:
        """RFM quintiles, value tiers and every rule segment's members, all set-based SQL.

        One rescore at a time across workers (PostgreSQL advisory lock): two would rewrite the same
        rows in different orders. With ``skip_if_busy`` (the sweep) a busy lock means someone else
        is already doing it."""
        now = now or self.clock()
        async with self._sessions.begin() as session:
            if not await _advisory_lock(session, SCORES_LOCK, wait=not skip_if_busy):
                return 0
            config = config or await self._config_in(session)
            await scores.recompute(session, now, config)
            await alert_repo.rerate_active(session, now)
            return await membership.refresh_rule_segments(session, None, now, config)

    async def sweep(self) -> RefreshOutcome:
        """Apply the time-based rules: inactivity churn, comebacks settling, tenure, INACTIVITY
        alarms, expiring alerts nobody acted on, and fresh value scores. Safe to run from several
        workers at once: on PostgreSQL an advisory lock lets one of them do it."""
        now = self.clock()
        # Two transactions: customer rows stay locked only for the short time-based pass, not
        # while the portfolio is rescored.
        async with self._sessions.begin() as session:
            if not await _advisory_lock(session, SWEEP_LOCK, wait=False):
                return RefreshOutcome()
            config = await self._config_in(session)
            expired = await alert_repo.expire_stale(session, now - timedelta(days=config.alert_ttl_days), now)
            candidates = await repo.time_due(session, now, config)
            outcome = RefreshOutcome(expired=expired)
            for start in range(0, len(candidates), RECOMPUTE_CHUNK):
                part = await refresh(session, candidates[start : start + RECOMPUTE_CHUNK], now, config)
                await self._announce(session, list(part.raised))
                outcome = _merge(outcome, part)
        changed = await self.rescore(now=now, config=config, skip_if_busy=True)
        return _merge(outcome, RefreshOutcome(segments_changed=changed))

    async def _announce(self, session: AsyncSession, alerts: list[Alert]) -> None:
        """Deliver raised alerts to subscribers once (and only if) the transaction commits."""
        if not alerts:
            return
        if dialect_name(session) == "postgresql":
            payloads = [broadcast.encode(a) for a in alerts]
            await session.execute(
                text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) AS p"),
                {"channel": broadcast.CHANNEL, "payloads": payloads},
            )
            return
        publish = self.broadcaster.publish
        sa_event.listen(session.sync_session, "after_commit", lambda _s: publish(alerts), once=True)

    async def stage_and_tier(self, customer_id: int) -> tuple[str | None, str | None]:
        async with self._sessions() as session:
            return await repo.stage_and_tier(session, customer_id)

    async def standings(self, customer_ids: Sequence[int]) -> dict[int, Standing]:
        """RFM, tier and purchase rhythm per customer, for the customer view's loader."""
        ids = list(set(customer_ids))
        async with self._lookups() as session:
            rows = await repo.standing_rows(session, ids)
        return standings_from(ids, rows)


async def _advisory_lock(session: AsyncSession, key: int, *, wait: bool) -> bool:
    """A transaction-scoped PostgreSQL advisory lock (SQLite has one writer at a time already)."""
    if dialect_name(session) != "postgresql":
        return True
    if wait:
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        return True
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


def _merge(a: RefreshOutcome, b: RefreshOutcome) -> RefreshOutcome:
    stages = dict(a.stages)
    for stage, n in b.stages.items():
        stages[stage] = stages.get(stage, 0) + n
    return RefreshOutcome(
        customers=a.customers + b.customers,
        moved=a.moved + b.moved,
        raised=a.raised + b.raised,
        resolved=a.resolved + b.resolved,
        expired=a.expired + b.expired,
        segments_changed=a.segments_changed + b.segments_changed,
        stages=stages,
        derived=a.derived + b.derived,
    )


