"""Queries over the event timeline."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import sqlite_timestamp
from db.dialect import dialect_name, insert_for
from db.driver import on_sqlite_driver
from db.models import Event


# Column order of event rows written straight to a driver (SQLite, PostgreSQL).
EVENT_COLUMNS = (
    "customer_id", "type", "occurred_at", "recorded_at", "amount", "currency", "category", "score",
    "channel", "direction", "reason", "payload", "idempotency_key",
)
# SQLite: up to this many rows per INSERT statement (13 parameters each, within SQLite's 32,766).
SQLITE_ROWS_PER_INSERT = 500


@functools.lru_cache(maxsize=64)
def _sqlite_insert(rows: int) -> str:
    """One INSERT of ``rows`` rows. SQLite runs it in a single step, which sqlite3 takes without
    the GIL: executemany stepped once per row and took the GIL back after each one, waiting for it
    whenever the event loop was busy with other requests' Python work."""
    one = f"({', '.join('?' * len(EVENT_COLUMNS))})"
    return (
        f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES {', '.join([one] * rows)} "
        "ON CONFLICT (idempotency_key) DO NOTHING"
    )


async def insert_many(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert events; one whose idempotency key is already stored is skipped. Returns inserted."""
    if not rows:
        return 0
    if dialect_name(session) == "sqlite":
        inserted, _ = await on_sqlite_driver(session, _insert_sqlite, _sqlite_params(rows))
        return inserted
    statement = insert_for(session, Event).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return len((await session.execute(statement.returning(Event.__table__.c.id), rows)).all())


def _sqlite_params(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """The parameters of each INSERT statement (`_sqlite_insert`), row after row."""
    # Straight to the driver: SQLAlchemy's per-row parameter processing was a third of the cost
    # of a 1,000-event batch. Values are converted exactly as the column types would store them.
    # A batch shares one recorded_at, and most events carry no payload: convert those once.
    recorded: dict[datetime, str] = {}
    statements = []
    for start in range(0, len(rows), SQLITE_ROWS_PER_INSERT):
        params: list[Any] = []
        for row in rows[start : start + SQLITE_ROWS_PER_INSERT]:
            get = row.get
            at = row["recorded_at"]
            if (recorded_text := recorded.get(at)) is None:
                recorded_text = recorded[at] = sqlite_timestamp(at)
            payload = get("payload")
            params += (
                row["customer_id"], row["type"], sqlite_timestamp(row["occurred_at"]), recorded_text,
                get("amount"), get("currency"), get("category"), get("score"), get("channel"), get("direction"),
                get("reason"), json.dumps(payload, separators=(",", ":")) if payload else "{}",
                get("idempotency_key"),
            )
        statements.append(params)
    return statements


def _insert_sqlite(connection: sqlite3.Connection, statements: list[list[Any]]) -> tuple[int, int]:
    """(events inserted, the largest event id after the insert), in the driver's thread."""
    width = len(EVENT_COLUMNS)
    inserted, last = 0, 0
    for params in statements:
        cursor = connection.execute(_sqlite_insert(len(params) // width), params)
        # rowcount: the rows this statement inserted (skipped conflicts count 0); lastrowid: the
        # rowid of its last inserted row. Rowids only grow while the batch holds the write lock,
        # so the last one is the largest: no `SELECT max(id)` statement and its trip for the GIL.
        if cursor.rowcount > 0:
            inserted += cursor.rowcount
            last = cursor.lastrowid or 0
    return inserted, int(last)


# What the lifecycle pass needs of a newly logged event (see services.lifecycle.facts).
LOGGED = (
    Event.__table__.c.id, Event.__table__.c.customer_id, Event.__table__.c.type, Event.__table__.c.occurred_at,
    Event.__table__.c.amount, Event.__table__.c.score, Event.__table__.c.category, Event.__table__.c.reason,
)


class Logged(NamedTuple):
    """A just-inserted event, from the values it was written with (LOGGED columns)."""

    id: int
    customer_id: int
    type: str
    occurred_at: datetime
    amount: float | None
    score: int | None
    category: str | None
    reason: str | None


def _logged(row: dict[str, Any], event_id: int) -> Logged:
    get = row.get
    return Logged(event_id, row["customer_id"], row["type"], row["occurred_at"], get("amount"), get("score"),
                  get("category"), get("reason"))


# PostgreSQL: one statement whose 13 parameters are arrays, a column each. The driver encodes each
# array in one go and the server plans a 13-parameter statement once, where a multi-row VALUES
# insert of a 1,000-event batch carried 13,000 parameters (most of the batch's client time). It goes
# straight to the driver, like the SQLite insert: the returned values need no conversion (amount
# comes back as float8, as the Numeric(asdecimal=False) column would give it).
_PG_TYPES = {
    "customer_id": "bigint", "type": "text", "occurred_at": "timestamptz", "recorded_at": "timestamptz",
    "amount": "numeric", "currency": "text", "category": "text", "score": "smallint", "channel": "text",
    "direction": "text", "reason": "text", "payload": "text", "idempotency_key": "text",
}
_PG_INSERT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"SELECT {', '.join('u.payload::jsonb' if c == 'payload' else f'u.{c}' for c in EVENT_COLUMNS)} "
    f"FROM unnest({', '.join(f'${i}::{_PG_TYPES[c]}[]' for i, c in enumerate(EVENT_COLUMNS, 1))}) "
    f"AS u({', '.join(EVENT_COLUMNS)}) "
    "ON CONFLICT (idempotency_key) DO NOTHING "
    f"RETURNING {', '.join(f'{c.name}::float8 AS {c.name}' if c.name == 'amount' else c.name for c in LOGGED)}"
)


def _pg_columns(rows: list[dict[str, Any]]) -> tuple[list[Any], ...]:
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for row in rows:
        get = row.get
        for name in EVENT_COLUMNS:
            columns[name].append(get(name))
    columns["payload"] = [json.dumps(p, separators=(",", ":")) if p else "{}" for p in columns["payload"]]
    return tuple(columns.values())


class PreparedEvents(NamedTuple):
    """A batch of event rows with its driver parameters, built before the write lock is taken."""

    rows: list[dict[str, Any]]
    params: Any


def prepare(session: AsyncSession, rows: list[dict[str, Any]]) -> PreparedEvents:
    """The driver parameters of ``rows`` for `insert_prepared`: the conversion is pure Python, so
    doing it first keeps it out of the section that holds SQLite's write lock."""
    if dialect_name(session) == "sqlite":
        return PreparedEvents(rows, _sqlite_params(rows))
    return PreparedEvents(rows, _pg_columns(rows))


async def insert_logged(session: AsyncSession, rows: list[dict[str, Any]]) -> list[Any]:
    """Insert events like `insert_many` and return the stored ones (LOGGED columns), id order."""
    return await insert_prepared(session, prepare(session, rows))


async def insert_prepared(session: AsyncSession, batch: PreparedEvents) -> list[Any]:
    """`insert_logged` for a batch `prepare` converted already."""
    rows = batch.rows
    if not rows:
        return []
    if dialect_name(session) == "sqlite":
        # The insert and the id read in one trip to the driver's thread (see db.driver).
        inserted, last = await on_sqlite_driver(session, _insert_sqlite, batch.params)
        if not inserted:
            return []
        # The insert holds SQLite's write lock until commit and each new rowid is one more than
        # the last, so this batch's events are the newest ``inserted`` rows, in the rows' order.
        if inserted == len(rows):
            return [_logged(row, event_id) for event_id, row in enumerate(rows, last - inserted + 1)]
        query = select(*LOGGED).order_by(Event.id.desc()).limit(inserted)
        return list(reversed((await session.execute(query)).all()))
    connection = await session.connection()
    found = (await connection.exec_driver_sql(_PG_INSERT, batch.params)).all()
    return sorted(found, key=lambda row: row.id)


async def logged(session: AsyncSession, event_ids: list[int]) -> list[Logged]:
    """Stored events by id (LOGGED columns), id order; ids no longer stored are skipped."""
    if not event_ids:
        return []
    query = select(*LOGGED).where(Event.id.in_(event_ids)).order_by(Event.id)
    # As plain tuples: a merge reads each event's fields several times, and a result row's
    # attribute lookup by name costs several times a named tuple's.
    return [Logged._make(row) for row in (await session.execute(query)).all()]


async def existing_keys(session: AsyncSession, keys: Iterable[str]) -> set[str]:
    keys = list(set(keys))
    if not keys:
        return set()
    query = select(Event.idempotency_key).where(Event.idempotency_key.in_(keys))
    return set((await session.scalars(query)).all())  # type: ignore[arg-type]


ROW = tuple(Event.__table__.c)
# Up to this many customers (a page is at most 100) take one UNION ALL arm each on SQLite.
LATEST_UNION_MAX = 100


_COLUMNS = ", ".join(c.name for c in ROW)
_NEWEST = "ORDER BY occurred_at DESC, id DESC LIMIT :n"
# PostgreSQL: per customer, an index scan that stops after n rows (1 ms for a page of 50 customers
# where ranking all their events with a window function took 14 ms, mostly heap reads).
_LATEST_PG = text(
    f"SELECT e.* FROM unnest(CAST(:ids AS bigint[])) AS c(id) CROSS JOIN LATERAL "
    f"(SELECT {_COLUMNS} FROM events WHERE events.customer_id = c.id {_NEWEST}) AS e "
    "ORDER BY e.customer_id, e.occurred_at DESC, e.id DESC"
).columns(*ROW)


@functools.lru_cache(maxsize=256)
def _latest_sqlite(count: int) -> Any:
    """SQLite has no LATERAL: the same per-customer limited index scans, as ``count`` arms of a
    UNION ALL (several times faster than the window function over a page of customers)."""
    arms = " UNION ALL ".join(
        f"SELECT * FROM (SELECT {_COLUMNS} FROM events WHERE customer_id = :c{i} {_NEWEST})" for i in range(count)
    )
    return text(f"SELECT * FROM ({arms}) ORDER BY customer_id, occurred_at DESC, id DESC").columns(*ROW)


async def latest_for(session: AsyncSession, customer_ids: Iterable[int], n: int) -> list[Row[Any]]:
    """The ``n`` newest events of each customer, in one statement."""
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    # Text statements with plain rows: on the session's connection, past the ORM's execution.
    if dialect_name(session) == "postgresql":
        connection = await session.connection()
        return list((await connection.execute(_LATEST_PG, {"ids": ids, "n": n})).all())
    if len(ids) <= LATEST_UNION_MAX:
        params: dict[str, int] = {f"c{i}": cid for i, cid in enumerate(ids)}
        params["n"] = n
        connection = await session.connection()
        return list((await connection.execute(_latest_sqlite(len(ids)), params)).all())
    rank = (
        func.row_number()
        .over(partition_by=Event.customer_id, order_by=(Event.occurred_at.desc(), Event.id.desc()))
        .label("rank")
    )
    inner = select(Event.id, rank).where(Event.customer_id.in_(ids)).subquery()
    query = (
        select(*ROW)
        .join(inner, inner.c.id == Event.id)
        .where(inner.c.rank <= n)
        .order_by(Event.customer_id, Event.occurred_at.desc(), Event.id.desc())
    )
    return list((await session.execute(query)).all())


async def timeline_page(
    session: AsyncSession, customer_id: int, after: tuple[datetime, int] | None, limit: int
) -> list[Row[Any]]:
    query = select(*ROW).where(Event.customer_id == customer_id)
    if after is not None:
        at, last_id = after
        query = query.where(or_(Event.occurred_at < at, and_(Event.occurred_at == at, Event.id < last_id)))
    query = query.order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit)
    return list((await session.execute(query)).all())
