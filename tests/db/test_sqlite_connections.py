"""How the SQLite engine hands out connections and sets each one up."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from db.session import WAL_AUTOCHECKPOINT_PAGES, make_engine


async def _driver_id(conn) -> int:  # type: ignore[no-untyped-def]
    raw = await conn.get_raw_connection()
    return id(raw.driver_connection)


async def test_the_connection_returned_last_is_handed_out_next(tmp_path: Path) -> None:
    # Each SQLite connection has its own page cache, dropped when another connection has written:
    # a serial caller must get back the connection it used last, not the next one in turn.
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    try:
        first, second = await engine.connect(), await engine.connect()
        first_id, second_id = await _driver_id(first), await _driver_id(second)
        assert first_id != second_id
        await first.close()
        await second.close()  # returned last
        async with engine.connect() as again:
            assert await _driver_id(again) == second_id
            await again.execute(text("SELECT 1"))
        async with engine.connect() as again:
            assert await _driver_id(again) == second_id
    finally:
        await engine.dispose()


async def test_commits_leave_the_wal_to_the_background_checkpointer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    try:
        async with engine.connect() as conn:
            pages = (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        assert mode == "wal"
        assert pages == WAL_AUTOCHECKPOINT_PAGES
        # 256 MiB of 4 KiB pages: well past what a burst of 1,000-event batches writes in the
        # second between two background checkpoints.
        assert pages * 4096 >= 256 * 2**20
    finally:
        await engine.dispose()


async def test_statement_journals_stay_in_memory(tmp_path: Path) -> None:
    # A multi-row insert in a transaction journals each page it changes; on disk that doubled
    # the writes of an event batch (see db.session._sqlite_pragmas). 2 is MEMORY.
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'temp.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA temp_store"))).scalar_one() == 2
    finally:
        await engine.dispose()
