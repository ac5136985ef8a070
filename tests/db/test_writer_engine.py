"""The write gate's own SQLite connection: event batches and lifecycle passes go through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, text

from db.models import CustomerMetrics, Event
from db.session import WRITER_CACHE_KIB, make_engine, make_writer_engine
from services.container import Services
from services.domain import CustomerDraft, EventDraft


def test_only_a_file_backed_sqlite_database_gets_a_writer_engine() -> None:
    assert make_writer_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/test") is None
    assert make_writer_engine("sqlite+aiosqlite:///:memory:") is None
    assert make_writer_engine("sqlite+aiosqlite://") is None


async def test_event_batches_and_their_lifecycle_pass_use_the_writer_connection(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=5)
    writer = make_writer_engine(database_url)
    writes: list[str] = []
    drivers: set[int] = set()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        writes.append(statement)
        drivers.add(id(conn.connection.driver_connection))

    try:
        if database_url.startswith("postgresql"):
            assert writer is None
            return
        assert writer is not None
        event.listen(writer.sync_engine, "before_cursor_execute", record)
        services = Services.build(engine, write_engine=writer)
        services.lifecycle.inline_max = 1  # a batch of two customers goes to the drainer
        created = await services.customers.upsert_many([CustomerDraft(external_id=f"w-{i}") for i in range(2)])
        assert not created.errors
        now = datetime.now(UTC)
        drafts = [EventDraft(f"w-{i}", "PURCHASE", now - timedelta(days=1), amount=10.0) for i in range(2)]
        result = await services.events.record_many(drafts)
        assert result.accepted == 2 and not result.errors
        # (The event insert itself goes straight to the driver; the queue row beside it does not.)
        assert any(s.startswith("INSERT INTO lifecycle_queue") for s in writes)
        assert await services.lifecycle.drain() == 2
        assert any("customer_metrics" in s for s in writes)
        # One connection did every gated write, with the bigger page cache.
        assert len(drivers) == 1
        async with writer.connect() as conn:
            assert (await conn.execute(text("PRAGMA cache_size"))).scalar_one() == -WRITER_CACHE_KIB
        # And the main engine sees what was written.
        async with services.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Event)) == 2
            assert await session.scalar(select(func.count()).select_from(CustomerMetrics)) == 2
    finally:
        if writer is not None:
            await writer.dispose()
        await engine.dispose()
