"""Background WAL checkpoints for embedded SQLite, so commits on the request path stay cheap."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.periodic import Periodic


class WalCheckpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` every ``interval`` seconds.

    PASSIVE never blocks readers or writers: it copies what it can and leaves the rest for the
    next round. On PostgreSQL this is a no-op.
    """

    def __init__(self, engine: AsyncEngine, interval: float = 1.0) -> None:
        self.engine = engine
        self._loop = Periodic("sqlite-wal-checkpoint", self.checkpoint, interval)

    @property
    def active(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def start(self) -> None:
        if self.active:
            self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, WAL frames, frames checkpointed)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))).one()
        return int(row[0]), int(row[1]), int(row[2])
