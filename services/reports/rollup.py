"""Keeps the lever reports' rollup current, off the request path.

The reports are exact whatever the rollup's age: they add the live rest of the log to it (see
db.repositories.lever_facts). A fresher rollup only leaves them less of the log to read. Nothing on
the decide or outcome path writes it: a refresh reads what was logged since its watermarks.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.dialect import dialect_name
from db.periodic import Periodic
from db.write_gate import WriteGate, held
from db.repositories import lever_rollup as repo
from db.repositories import offers as offer_repo


DEFAULT_INTERVAL = 30.0
BATCH = 50_000  # decisions per refresh transaction
# On SQLite a refresh transaction holds the one write lock: a decide or recordOutcome commit
# waits behind it, so there it moves fewer decisions at a time (about 50 ms of work).
SQLITE_BATCH = 5_000
# In a server on SQLite, a refresh step waits for a pause in the process's writes: this long
# without one holding the write gate, or at most MAX_DEFER_SECONDS from the start of the refresh.
QUIET_SECONDS = 0.2
MAX_DEFER_SECONDS = 60.0


class Step(enum.Enum):
    DONE = "done"  # nothing new to roll up
    MOVED = "moved"  # caught up with the safe watermark
    PARTIAL = "partial"  # moved one batch; more to come


class LeverRollup:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], batch: int = BATCH, write_gate: WriteGate | None = None
    ) -> None:
        if batch < 1:
            raise ValueError(f"`batch` must be >= 1, got {batch}")
        self._sessions = sessionmaker
        self.batch = batch
        self._gate = write_gate  # on SQLite: wait for the write lock in asyncio, behind decides and outcomes

    @property
    def write_gate(self) -> WriteGate | None:
        return self._gate

    async def refresh(self, before_step: Callable[[], Awaitable[object]] | None = None) -> int:
        """Roll up every decision point's newly settled decisions, at most ``batch`` decisions per
        transaction (``SQLITE_BATCH`` on SQLite); returns how many points moved. ``before_step``
        is awaited before each transaction (the server's refresher waits there for a pause).

        On PostgreSQL a refresh moves to the ids its previous run saw, once no transaction open at
        that moment is still running (so a refresh right after a load moves nothing: run it twice);
        on SQLite it moves to the newest ids."""
        async with self._sessions() as session:
            point_ids = [point.id for point in await offer_repo.all_decision_points(session)]
        moved = 0
        for point_id in point_ids:
            if before_step is not None:
                await before_step()
            step = first = await self._refresh_point(point_id)
            while step == Step.PARTIAL:
                if before_step is not None:
                    await before_step()
                step = await self._refresh_point(point_id)
            moved += first != Step.DONE
        return moved

    async def _refresh_point(self, point_id: int) -> Step:
        async with held(self._gate), self._sessions.begin() as session:
            await repo.begin_refresh(session)
            mark = await repo.point_marks(session, point_id)
            last = repo.Watermark(mark.last_decision_id, mark.last_outcome_id)
            pending = repo.Watermark(mark.pending_decision_id, mark.pending_outcome_id)
            since = mark.pending_since
            if dialect_name(session) == "sqlite":
                target = await repo.newest(session, point_id)
            elif since is not None and not await repo.transactions_open_since(session, since):
                target = pending
            else:
                target = last
            batch = min(self.batch, SQLITE_BATCH) if dialect_name(session) == "sqlite" else self.batch
            if target.decision_id > last.decision_id + batch:
                target = repo.Watermark(last.decision_id + batch, target.outcome_id)
                step = Step.PARTIAL  # the pending ids stay safe: the next batch needs no new wait
            else:
                step = Step.MOVED if target != last else Step.DONE
                if dialect_name(session) != "sqlite":
                    pending, since = await repo.newest(session, point_id), await repo.database_now(session)
            if target != last:
                await repo.settle(session, point_id, last, target)
            await repo.save_marks(session, point_id, target, pending, since)
        return step


class RollupRefresher:
    """Runs ``LeverRollup.refresh`` every ``interval`` seconds in the server process.

    On SQLite each refresh step holds the one write lock for tens of milliseconds, and every
    decide, outcome or event batch that comes meanwhile waits behind it: under steady traffic the
    steps were the tail of those requests' latency (recordOutcome p99 93 ms with the refresher
    against 46 ms without, in one bench_offers run each). The reports stay exact whatever the
    rollup's age, so a step waits for a pause in the process's writes (``QUIET_SECONDS``), but
    never longer than ``max_defer`` seconds from the start of its refresh.
    """

    def __init__(
        self, rollup: LeverRollup, interval: float = DEFAULT_INTERVAL, *, quiet: float = QUIET_SECONDS,
        max_defer: float = MAX_DEFER_SECONDS,
    ) -> None:
        self.rollup = rollup
        self.quiet = quiet
        self.max_defer = max_defer
        self.deferred = 0.0  # seconds its steps have waited for a pause, for tests and metrics
        self._loop = Periodic("lever-rollup-refresh", self.refresh, interval)

    async def refresh(self) -> int:
        """One refresh whose steps wait for a pause in this process's writes."""
        gate, deadline = self.rollup.write_gate, time.monotonic() + self.max_defer

        async def pause() -> None:
            if gate is None:
                return
            while (quiet := gate.quiet_for()) < self.quiet and (now := time.monotonic()) < deadline:
                wait = min(self.quiet - quiet, deadline - now)
                self.deferred += wait
                await asyncio.sleep(wait)

        return await self.rollup.refresh(before_step=pause)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
