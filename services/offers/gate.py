"""Offer write transactions, queued behind this process's other SQLite writers.

SQLite has a single writer. Concurrent write transactions from one process otherwise wait in
SQLite's busy handler, which sleeps in steps of up to 100 ms: that, not the work, made the p99 of
decide and recordOutcome under 16 connections. Offer writes therefore hold the process's one
``db.write_gate.WriteGate`` (shared with event batches, lifecycle passes and the report rollup),
which hands the write lock over in asyncio as soon as it is free. PostgreSQL locks rows, so there
the gate is open.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.write_gate import WriteGate as ProcessWriteGate
from db.write_gate import held


class WriteGate:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], gate: ProcessWriteGate | None = None) -> None:
        """``gate``: the process's shared write gate (a private one when omitted, for tools and tests)."""
        self._sessions = sessionmaker
        bind = sessionmaker.kw.get("bind")
        self._gate = gate if gate is not None or bind is None else ProcessWriteGate(bind)

    @contextlib.asynccontextmanager
    async def writing(self, session: AsyncSession) -> AsyncIterator[AsyncSession]:
        """The write turn for a session the caller already opened (and read in): its writes in
        the block are committed at the end, or rolled back if the block fails."""
        async with held(self._gate):
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """``sessionmaker.begin()``, queued behind this process's other SQLite writes."""
        async with held(self._gate):
            async with self._sessions.begin() as session:
                yield session
