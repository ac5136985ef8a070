"""SQLite through aiosqlite, one trip to the driver's thread per statement.

aiosqlite runs every call on its own thread and hands the result back to the event loop. SQLAlchemy's
adapter makes four such calls for each statement (open a cursor, execute, fetch the rows, close
the cursor), one more for the rollback with which the pool resets every returned connection, and
each call is two thread wake-ups. Under concurrent ``decide`` or ``recordOutcome`` traffic those
wake-ups, not SQLite, were where the event loop sat waiting: about 11 calls per coalesced batch.

Here a statement is one call that opens, executes, fetches and closes on the driver's thread, and
``commit``/``rollback`` make no call when the connection holds no transaction (the standard
library's driver would issue nothing then either: it opens a transaction only before a write).
Everything else (the dialect, its SQL, its type handling, server-side cursors) is SQLAlchemy's own.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_


def _execute(conn: sqlite3.Connection, operation: str, parameters: Any) -> tuple[Any, list[Any] | None, int, int | None]:
    """On the driver's thread: the whole life of one cursor."""
    cursor = conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _executemany(conn: sqlite3.Connection, operation: str, seq_of_parameters: Any) -> tuple[Any, None, int, int | None]:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq_of_parameters)
        return None, None, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A DBAPI cursor whose statements run in one call each; the results wait here, fetched."""

    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:  # noqa: D107 - no cursor opened yet
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:  # type: ignore[override]
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _one_trip(self, function: Any, operation: str, parameters: Any) -> None:
        async with self._adapt_connection._execute_mutex:
            connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
            raw = connection._conn  # raises "no active connection" once closed, like any other call
            result = await connection._execute(function, raw, operation, parameters)
        self._description, rows, self._rowcount, self._lastrowid = result
        self._rows = collections.deque(rows) if rows else collections.deque()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            await_(self._one_trip(_execute, operation, parameters))
        except Exception as error:  # noqa: BLE001 - translated as SQLAlchemy's own adapter does
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            await_(self._one_trip(_executemany, operation, seq_of_parameters))
        except Exception as error:  # noqa: BLE001
            self._adapt_connection._handle_exception(error)

    async def _async_soft_close(self) -> None:
        return None  # the driver's cursor was closed on its thread, right after the fetch

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    _cursor_cls = OneTripCursor

    def _in_transaction(self) -> bool:
        # Read from the loop's thread while the driver's thread is idle on this connection (SQLAlchemy
        # never commits or rolls back while a statement of the same connection runs).
        raw = self._connection._connection  # type: ignore[attr-defined]
        return raw is not None and raw.in_transaction

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module handed to ``create_async_engine(module=...)`` for sqlite+aiosqlite URLs."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)
