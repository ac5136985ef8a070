"""A value this process reads from the database and keeps for a few seconds.

Budgets and contact policies are read on every decision but change rarely: each process keeps its
copy for ``ttl`` seconds, so a change made on another worker applies within that time, and a change
made here applies at once (``invalidate``). Concurrent readers of a stale copy load it once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Refreshed(Generic[T]):
    def __init__(self, load: Callable[[], Awaitable[T]], ttl: float) -> None:
        if ttl < 0:
            raise ValueError(f"`ttl` must be >= 0, got {ttl}")
        self.ttl = ttl
        self._load = load
        self._value: T | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self._value is not None and time.monotonic() - self._at < self.ttl

    async def get(self) -> T:
        if self._fresh():
            return self._value  # type: ignore[return-value]
        async with self._lock:
            if not self._fresh():
                self._value, self._at = await self._load(), time.monotonic()
            return self._value  # type: ignore[return-value]

    def invalidate(self) -> None:
        self._value = None
