"""The live alert feed: an in-process fan-out to subscribers, fed after commit.

On PostgreSQL alerts travel through NOTIFY (issued in the transaction that raises them, so they are
delivered only on commit) and every worker's listener feeds its own broadcaster, so a subscriber on
any worker sees alerts raised on any worker. On SQLite (one process) the pass publishes directly.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from datetime import datetime

from services.lifecycle.values import Alert

CHANNEL = "ciclo_alerts"
_QUEUE_SIZE = 1000
log = logging.getLogger("ciclo.alerts")


def encode(alert: Alert) -> str:
    data = asdict(alert)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    return json.dumps(data, separators=(",", ":"))


def decode(payload: str) -> Alert:
    data = json.loads(payload)
    for key in ("raised_at", "updated_at", "resolved_at"):
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    return Alert(**data)


class Broadcaster:
    """Fan alerts out to every subscriber's queue; a subscriber too slow to keep up loses the oldest."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Alert]] = set()

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, alerts: list[Alert]) -> None:
        for queue in list(self._queues):
            for alert in alerts:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(alert)

    async def subscribe(self, accept: Callable[[Alert], bool] = lambda _: True) -> AsyncIterator[Alert]:
        queue: asyncio.Queue[Alert] = asyncio.Queue(_QUEUE_SIZE)
        self._queues.add(queue)
        try:
            while True:
                alert = await queue.get()
                if accept(alert):
                    yield alert
        finally:
            self._queues.discard(queue)


class PostgresListener:
    """LISTEN on a dedicated asyncpg connection and feed the local broadcaster."""

    def __init__(self, dsn: str, broadcaster: Broadcaster) -> None:
        self._dsn = dsn
        self._broadcaster = broadcaster
        self._connection = None

    async def start(self) -> None:
        import asyncpg

        self._connection = await asyncpg.connect(self._dsn)
        await self._connection.add_listener(CHANNEL, self._on_notify)

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._broadcaster.publish([decode(payload)])
        except (ValueError, TypeError, KeyError):
            log.exception("unreadable alert notification %r", payload[:200])

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
