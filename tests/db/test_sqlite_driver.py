"""The SQLite driver adapter: one trip to aiosqlite's thread per statement, and the same results,
errors and transactions as SQLAlchemy's own adapter."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import exc, text

from db.session import make_engine, make_sessionmaker
from db.sqlite_driver import OneTripConnection


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Every call aiosqlite runs on its thread, by the name of the function it runs."""
    seen: Counter = Counter()
    run = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen[getattr(getattr(fn, "func", fn), "__name__", "?")] += 1
        return await run(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)"))
    return engine


async def test_a_statement_is_one_trip_and_reads_leave_no_rollback_trip(tmp_path: Path, trips: Counter) -> None:
    engine = await _engine(tmp_path)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:  # warm: the pool's first connection runs its pragmas
            await session.execute(text("SELECT 1"))
        trips.clear()
        async with sessions() as session:
            rows = (await session.execute(text("SELECT id FROM t"))).all()
            assert rows == []
        assert trips == Counter({"_execute": 1})
        async with engine.connect() as conn:
            assert type(conn.sync_connection.connection.dbapi_connection) is OneTripConnection  # type: ignore[union-attr]
        trips.clear()
        async with sessions.begin() as session:
            ids = (await session.execute(text("INSERT INTO t (v) VALUES ('a'), ('b') RETURNING id"))).scalars().all()
            result = await session.execute(text("INSERT INTO t (v) VALUES ('c')"))
            assert ids == [1, 2] and result.rowcount == 1 and result.lastrowid == 3
        # two statements and the commit; no rollback when the pool takes the connection back
        assert trips == Counter({"_execute": 2, "commit": 1})
    finally:
        await engine.dispose()


async def test_results_errors_and_rollbacks_are_sqlalchemys(tmp_path: Path) -> None:
    engine = await _engine(tmp_path)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as session:
            await session.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": f"x{i}"} for i in range(5)])
        # A failed write rolls back the whole transaction: nothing half-written stays.
        with pytest.raises(exc.IntegrityError, match="UNIQUE constraint failed: t.v"):
            async with sessions.begin() as session:
                await session.execute(text("INSERT INTO t (v) VALUES ('new')"))
                await session.execute(text("INSERT INTO t (v) VALUES ('x0')"))
        with pytest.raises(exc.OperationalError, match="no such table: missing"):
            async with sessions() as session:
                await session.execute(text("SELECT * FROM missing"))
        # An explicit rollback of a transaction that wrote undoes it.
        async with sessions() as session:
            await session.execute(text("UPDATE t SET v = 'changed' WHERE v = 'x1'"))
            await session.rollback()
        async with sessions() as session:
            values = (await session.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
            assert values == [f"x{i}" for i in range(5)]
            # fetchmany / first / one read from rows fetched on the driver's thread
            result = await session.execute(text("SELECT v FROM t ORDER BY id"))
            assert result.fetchmany(2) == [("x0",), ("x1",)] and result.fetchone() == ("x2",)
            assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 5
        # Streaming results keep aiosqlite's own cursor.
        async with engine.connect() as conn:
            streamed = await conn.stream(text("SELECT v FROM t ORDER BY id"))
            assert [row[0] async for row in streamed] == [f"x{i}" for i in range(5)]
    finally:
        await engine.dispose()
