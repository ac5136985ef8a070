"""Lookup sessions: autocommit on PostgreSQL (no transaction around reads), ordinary on SQLite."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from db.session import make_engine, make_lookup_sessionmaker, make_sessionmaker


async def _two_clock_reads(sessions) -> tuple[object, object]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        first = (await session.execute(text("SELECT now()"))).scalar_one()
        await asyncio.sleep(0.02)
        second = (await session.execute(text("SELECT now()"))).scalar_one()
    return first, second


async def test_lookup_sessions_run_each_statement_on_its_own_on_postgresql(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        lookups = make_lookup_sessionmaker(engine)
        if database_url.startswith("sqlite"):
            # pysqlite opens no transaction for reads: the ordinary sessions, on the engine itself.
            assert lookups.kw["bind"] is engine
            async with lookups() as session:
                assert (await session.execute(text("SELECT count(*) FROM customers"))).scalar_one() == 0
            return
        # now() is the transaction's start: constant inside one, new for every autocommit statement.
        first, second = await _two_clock_reads(lookups)
        assert second > first
        first, second = await _two_clock_reads(make_sessionmaker(engine))
        assert second == first
        # The ordinary sessions still write in transactions after lookups used the same pool.
        async with make_sessionmaker(engine).begin() as session:
            await session.execute(text("CREATE TEMP TABLE t (x int)"))
            await session.execute(text("INSERT INTO t VALUES (1)"))
            assert (await session.execute(text("SELECT now() = statement_timestamp()"))).scalar_one() is False
    finally:
        await engine.dispose()
