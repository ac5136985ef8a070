"""Database engines and session factories built from a URL."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from db.sqlite_driver import OneTripDbapi

DEFAULT_URL = "sqlite+aiosqlite:///./ciclo.db"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def json_text(value: Any) -> str:
    """JSON columns as text, through orjson: the standard library's encoder was a fifth of the
    cost of logging a batch of decisions (features, context and explanation per row). Like
    ``json.dumps`` it turns tuples into arrays and non-string keys into strings; NaN becomes null,
    which PostgreSQL's JSONB requires anyway."""
    return orjson.dumps(value, option=_JSON_OPTIONS).decode()


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """Create an async engine tuned for the backend named by ``url``.

    SQLite runs in WAL mode so readers never wait on the writer, with foreign keys enforced and a
    busy timeout so concurrent writers queue on the write lock instead of failing; through aiosqlite
    it uses ``db.sqlite_driver``, which runs each statement in one call on the driver's thread.
    """
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": json_text, "json_deserializer": orjson.loads}
    if is_sqlite(url):
        parsed = make_url(url)
        kwargs["connect_args"] = {"timeout": 30}
        # Each SQLite connection keeps its own page cache and drops it whole when it finds the
        # database changed by another connection. The pool's default hands out connections in
        # turn, so a serial client met a cold cache on every call (about 1,000 page reads from
        # the OS per 1,000-event batch); last-in-first-out reuses the connection that wrote last.
        # (An in-memory database has a single connection and no such pool.)
        if parsed.database not in (None, "", ":memory:"):
            kwargs["pool_use_lifo"] = True
        if parsed.get_driver_name() == "aiosqlite":
            kwargs["module"] = OneTripDbapi()
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


# The server checkpoints in the background every second (db.checkpoint); this threshold bounds
# the WAL (256 MiB) for processes that do not, and for a background checkpointer that falls
# behind. Any commit that finds the WAL past it runs a checkpoint itself, in the request. With
# the default (1,000 pages) that was nearly every 1,000-event batch. At 16,384 pages, ingestion
# on a portfolio of 1,000,000 events crossed it about every 16 batches (each batch dirties about
# one index page per customer it touches), which averaged 17-18 ms per commit against 6.7 ms
# with the background checkpointer alone (same script, same database).
WAL_AUTOCHECKPOINT_PAGES = 65_536
CACHE_KIB = 32_768


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Statement journals (and temporary b-trees) in memory. A multi-row insert inside a
    # transaction keeps a statement journal of every page it changes, so that a failed statement
    # can be undone alone; with the default temp_store it spilled to a temporary file past 64 KiB,
    # and a 1,000-event batch made as many write calls there as to the WAL (2,564 beside 2,587
    # per batch, strace over 60 batches into the benchmark's portfolio of 1,000,000 events).
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.close()


# The writer connection's page cache (see make_writer_engine): big enough for the pages an event
# batch and a lifecycle pass touch on a portfolio of 100,000 customers and 1,000,000 events.
WRITER_CACHE_KIB = 262_144


def make_writer_engine(url: str) -> AsyncEngine | None:
    """A second engine on a file-backed SQLite database for the write gate's holders, or None.

    Each SQLite connection keeps its own page cache and drops it whole when it finds the database
    changed by another connection. Writes taken in turn by whichever pooled connection a request
    held found a cold cache almost every time and read their index pages again from the OS. Used
    only under the write gate (db.write_gate), this engine's pool hands the same connection to
    every gated write, so the pages the last batch touched are still cached for the next one.
    Its owner disposes of it. None for PostgreSQL and for in-memory SQLite (another engine would
    be another database).
    """
    if not is_sqlite(url) or make_url(url).database in (None, "", ":memory:"):
        return None
    engine = make_engine(url)
    event.listen(engine.sync_engine, "connect", _writer_cache)
    return engine


def _writer_cache(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_lookup_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for read-only lookups (the customer view, its loaders, customer lists).

    On PostgreSQL they run in autocommit: no BEGIN before the first statement and no ROLLBACK when
    the session closes, two round trips fewer per session (550 -> 370 us CPU and 740 -> 420 us wall
    for a session with one small query). Reads keep their meaning: at READ COMMITTED, PostgreSQL's
    default, every statement already takes its own snapshot inside a transaction too. SQLite's
    driver opens no transaction for reads anyway: there they are the ordinary sessions.
    """
    if is_sqlite(str(engine.url)):
        return make_sessionmaker(engine)
    return async_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
