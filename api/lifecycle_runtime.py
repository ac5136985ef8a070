"""The lifecycle's background work inside a server process: the periodic sweep and, on PostgreSQL,
the LISTEN connection that feeds this worker's alert subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time

from sqlalchemy.engine import make_url

from services.container import Services
from services.lifecycle.broadcast import PostgresListener
from services.lifecycle.service import DRAIN_CHUNK

SWEEP_ENV = "CICLO_SWEEP_SECONDS"
DEFAULT_SWEEP_SECONDS = 300.0
# How long the drainer waits when the lifecycle queue is empty.
DRAIN_IDLE_SECONDS = 0.2
# While recordEvents calls keep coming, the drainer waits until none has run for this long, or
# until the oldest batch this process queued has waited CICLO_LIFECYCLE_MAX_LAG_SECONDS.
DRAIN_QUIET_SECONDS = 0.5
# A pass the lag forces while recordEvents calls still come takes about one batch's customers at a
# time: on SQLite the write gate then alternates between passes and calls, where a full chunk
# (DRAIN_CHUNK, about 2 s of work on a loaded host) held four clients' calls back for seconds.
BUSY_DRAIN_CHUNK = 1_000
MAX_LAG_ENV = "CICLO_LIFECYCLE_MAX_LAG_SECONDS"
DEFAULT_MAX_LAG_SECONDS = 5.0
log = logging.getLogger("ciclo.lifecycle")


def sweep_seconds() -> float:
    """CICLO_SWEEP_SECONDS: how often the sweep runs (default 300); 0 turns it off."""
    raw = os.environ.get(SWEEP_ENV)
    value = float(raw) if raw else DEFAULT_SWEEP_SECONDS
    if value < 0:
        raise ValueError(f"`{SWEEP_ENV}` must be >= 0, got {value}")
    return value


def max_lag_seconds() -> float:
    """CICLO_LIFECYCLE_MAX_LAG_SECONDS: how long a queued batch may wait for a pause in ingestion
    before the drainer runs anyway (default 5)."""
    raw = os.environ.get(MAX_LAG_ENV)
    value = float(raw) if raw else DEFAULT_MAX_LAG_SECONDS
    if value < 0:
        raise ValueError(f"`{MAX_LAG_ENV}` must be >= 0, got {value}")
    return value


def drain_wait(
    now: float, backlog_since: float | None, last_done: float | None, *, busy: bool, quiet: float, max_lag: float
) -> float:
    """Seconds the drainer should still wait before its next pass; 0 when it is due.

    A pass for a large batch competes with ingestion for the process (and, on SQLite, for the write
    lock), so while recordEvents calls run (``busy``) or ended less than ``quiet`` seconds ago
    (``last_done``) the drainer waits, but never lets the oldest batch this process queued
    (``backlog_since``) wait more than ``max_lag``. With nothing queued here, what other workers
    queued is drained at once.
    """
    if backlog_since is None:
        return 0.0
    until_late = backlog_since + max_lag - now
    if busy:
        until_quiet = quiet
    elif last_done is not None:
        until_quiet = last_done + quiet - now
    else:
        until_quiet = 0.0
    return max(0.0, min(until_quiet, until_late))


def drain_chunk(now: float, last_done: float | None, *, busy: bool, quiet: float) -> int:
    """About how many customers the drainer's next pass takes: fewer while ingestion is going on
    (a call running, or one ended less than ``quiet`` seconds ago), so the calls are not held up."""
    if busy or (last_done is not None and now - last_done < quiet):
        return BUSY_DRAIN_CHUNK
    return DRAIN_CHUNK


class LifecycleRuntime:
    def __init__(self, services: Services, database_url: str, interval: float | None = None) -> None:
        self._services = services
        self._url = database_url
        self._interval = sweep_seconds() if interval is None else interval
        self._max_lag = max_lag_seconds()
        self._task: asyncio.Task[None] | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._listener: PostgresListener | None = None

    async def start(self) -> None:
        if self._url.startswith("postgresql"):
            dsn = make_url(self._url).set(drivername="postgresql").render_as_string(hide_password=False)
            self._listener = PostgresListener(dsn, self._services.lifecycle.broadcaster)
            await self._listener.start()
        if self._interval > 0:
            self._task = asyncio.create_task(self._sweep_forever(), name="ciclo-lifecycle-sweep")
        self._drainer = asyncio.create_task(self._drain_forever(), name="ciclo-lifecycle-drain")

    async def _drain_forever(self) -> None:
        """Run the lifecycle pass owed by large event batches, at the first pause in ingestion."""
        lifecycle, events = self._services.lifecycle, self._services.events
        while True:
            wait = drain_wait(
                time.monotonic(), lifecycle.backlog_since, events.last_done,
                busy=events.in_flight > 0, quiet=DRAIN_QUIET_SECONDS, max_lag=self._max_lag,
            )
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            limit = drain_chunk(time.monotonic(), events.last_done, busy=events.in_flight > 0, quiet=DRAIN_QUIET_SECONDS)
            try:
                done = await self._services.lifecycle.drain(limit=limit)
            except Exception:  # noqa: BLE001 - retried on the next round
                log.exception("lifecycle drain failed")
                done = 0
            if not done:
                await asyncio.sleep(DRAIN_IDLE_SECONDS)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                outcome = await self._services.lifecycle.sweep()
                if outcome.customers or outcome.expired:
                    log.info(
                        "sweep: %d customers re-evaluated, %d moved, %d alerts raised, %d expired",
                        outcome.customers, outcome.moved, len(outcome.raised), outcome.expired,
                    )
            except Exception:  # noqa: BLE001 - one failed sweep must not stop the next ones
                log.exception("lifecycle sweep failed")

    async def stop(self) -> None:
        for task in (self._task, self._drainer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._drainer = None
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
