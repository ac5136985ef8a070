"""One queue for this process's offer writes on SQLite.

SQLite has a single writer. Concurrent write transactions from one process otherwise wait in
SQLite's busy handler, which sleeps in steps of up to 100 ms: that, not the work, made the p99 of
decide and recordOutcome under 16 connections. Waiting on an asyncio lock instead hands the write
lock over as soon as it is free. PostgreSQL locks rows, so there the gate is open.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class WriteGate:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessionmaker
        bind = sessionmaker.kw.get("bind")
        self._lock = asyncio.Lock() if bind is not None and bind.dialect.name == "sqlite" else None

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """``sessionmaker.begin()``, queued behind this process's other offer writes on SQLite."""
        if self._lock is None:
            async with self._sessions.begin() as session:
                yield session
            return
        async with self._lock:
            async with self._sessions.begin() as session:
                yield session
