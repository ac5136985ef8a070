"""Several SQLite statements in one trip to the driver's thread.

aiosqlite runs each call on its connection's own thread, and SQLAlchemy's adapter makes three or
four such calls per statement (cursor, execute, fetch, close), each one a hand-off to that thread
and back to the event loop. While SQLite's write lock is held, each hand-off also waits for
whatever else the event loop is running, such as another recordEvents call coercing its 1,000
items, and the lock sits idle meanwhile.

`on_sqlite_driver` runs a plain function on the session's sqlite3 connection, on that thread, in
one hand-off. The function runs inside the session's transaction (sqlite3 opens it before the
first write, as it does for SQLAlchemy's own statements); the session still commits or rolls back.
Errors arrive as the driver's own (`sqlite3.Error`), not wrapped in SQLAlchemy's `DBAPIError`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def on_sqlite_driver(session: AsyncSession, fn: Callable[..., T], *args: Any) -> T:
    """``fn(sqlite3_connection, *args)`` on the session's connection, in the driver's thread."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    # The aiosqlite connection behind SQLAlchemy's adapter. Its `_execute` queues a call for its
    # thread, as SQLAlchemy's own adapter does for the settings it changes.
    aio: Any = raw.driver_connection
    sqlite_connection: sqlite3.Connection = aio._conn
    return await aio._execute(fn, sqlite_connection, *args)  # type: ignore[no-any-return]
