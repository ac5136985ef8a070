"""The write gate queues a process's SQLite write transactions one after the other; on PostgreSQL it is open."""

from __future__ import annotations

import asyncio

from db.session import make_engine
from db.write_gate import WriteGate, held


async def _overlap(gate: WriteGate) -> list[str]:
    steps: list[str] = []
    first_inside = asyncio.Event()

    async def first() -> None:
        async with gate.held():
            steps.append("first in")
            first_inside.set()
            for _ in range(5):
                await asyncio.sleep(0)
            steps.append("first out")

    async def second() -> None:
        await first_inside.wait()
        async with gate.held():
            steps.append("second in")

    await asyncio.gather(first(), second())
    return steps


async def test_on_sqlite_a_second_writer_enters_only_after_the_first_left(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        steps = await _overlap(WriteGate(engine))
    finally:
        await engine.dispose()
    if database_url.startswith("sqlite"):
        assert steps == ["first in", "first out", "second in"]
    else:
        assert steps == ["first in", "second in", "first out"]


async def test_without_a_gate_nothing_waits() -> None:
    async with held(None):
        pass
