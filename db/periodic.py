"""A background loop of a server process: one piece of work every few seconds until stopped.

The WAL checkpointer, the report rollup refresher and the metrics sampler each run one. A round
that fails is logged and tried again on the next; cancelling the task (``stop``) ends the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("ciclo")


class Periodic:
    def __init__(
        self, name: str, work: Callable[[], Awaitable[object]], interval: float, *, wait_first: bool = True
    ) -> None:
        """``work`` runs every ``interval`` seconds; ``wait_first`` waits one interval before the first round."""
        if interval <= 0:
            raise ValueError(f"`interval` must be > 0, got {interval}")
        self.name = name
        self.interval = interval
        self._work = work
        self._wait_first = wait_first
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        if self._wait_first:
            await asyncio.sleep(self.interval)
        while True:
            try:
                await self._work()
            except Exception:  # noqa: BLE001 - a failed round is retried on the next one
                log.warning("%s failed; retrying in %s s", self.name, self.interval, exc_info=True)
            await asyncio.sleep(self.interval)
