"""One write transaction at a time per process on SQLite, queued in asyncio instead of in SQLite."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from sqlalchemy.ext.asyncio import AsyncEngine


class WriteGate:
    """Serialises this process's big write transactions (event batches, lifecycle passes) on SQLite.

    SQLite has one writer at a time anyway. Without the gate a second writer waits inside SQLite's
    busy handler, which sleeps in growing steps (1, 2, 5, 10 ... 100 ms) and so wakes late: four
    concurrent recordEvents calls spent most of their time asleep. Waiting here instead wakes the
    next writer the moment the previous one commits. On PostgreSQL the gate is open.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._released_at = -math.inf  # time.monotonic() when the last writer let go

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        if self._lock is None:
            yield
            return
        async with self._lock:
            try:
                yield
            finally:
                self._released_at = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since a writer last held the gate: 0 while one holds it or waits for it, and
        infinity without a gate (PostgreSQL), where nobody queues behind a writer."""
        if self._lock is None:
            return math.inf
        if self._lock.locked():
            return 0.0
        return time.monotonic() - self._released_at


def held(gate: WriteGate | None) -> AbstractAsyncContextManager[None]:
    """``gate.held()``, or nothing to wait for without a gate."""
    return gate.held() if gate is not None else nullcontext()
