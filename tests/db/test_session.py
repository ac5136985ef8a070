"""On SQLite a process's write transactions take turns; reads never wait; PostgreSQL is not gated."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from db.session import QueuedWriteSessionmaker, make_engine, make_sessionmaker


async def test_sqlite_write_transactions_take_turns_and_reads_do_not_wait(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        if not database_url.startswith("sqlite"):
            assert not isinstance(sessions, QueuedWriteSessionmaker)
            return
        order: list[str] = []
        holding = asyncio.Event()

        async def writer(tag: str, hold: float) -> None:
            async with sessions.begin() as session:
                order.append(f"{tag} in")
                holding.set()
                await session.execute(text("UPDATE segments SET name = name"))
                await asyncio.sleep(hold)
                order.append(f"{tag} out")

        async def reader() -> None:
            await holding.wait()
            async with sessions() as session:
                await session.execute(text("SELECT count(*) FROM customers"))
            order.append("read")

        await asyncio.gather(writer("a", 0.2), writer("b", 0.0), reader())
        assert order.index("a out") < order.index("b in")
        assert order.index("read") < order.index("a out")
    finally:
        await engine.dispose()
