"""Background WAL checkpoints for embedded SQLite, so commits on the request path stay cheap."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("ciclo.db")


class WalCheckpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` every ``interval`` seconds.

    PASSIVE never blocks readers or writers: it copies what it can and leaves the rest for the
    next round. On PostgreSQL this is a no-op.
    """

    def __init__(self, engine: AsyncEngine, interval: float = 1.0) -> None:
        if interval <= 0:
            raise ValueError(f"`interval` must be > 0, got {interval}")
        self.engine = engine
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def start(self) -> None:
        if self.active and self._task is None:
            self._task = asyncio.create_task(self._run(), name="sqlite-wal-checkpoint")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, WAL frames, frames checkpointed)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))).one()
        return int(row[0]), int(row[1]), int(row[2])

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.checkpoint()
            except Exception:  # noqa: BLE001 - a failed round is retried on the next one
                log.warning("WAL checkpoint failed", exc_info=True)
