"""services.coalesce: concurrent single calls answered by one batch call."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence

import pytest

from services.coalesce import Coalescer


class Recorder:
    """A batch call that remembers each batch and can be held open until released."""

    def __init__(self) -> None:
        self.batches: list[tuple[Hashable, list[int]]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, key: Hashable, items: Sequence[int]) -> list[int | BaseException]:
        self.batches.append((key, list(items)))
        await self.gate.wait()
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]


async def test_an_idle_call_runs_alone_and_at_once() -> None:
    calls = Recorder()
    together = Coalescer(calls)
    assert await together.submit("a", 4) == 40
    assert calls.batches == [("a", [4])]


async def test_calls_arriving_while_a_batch_runs_go_together_in_the_next_one() -> None:
    calls = Recorder()
    calls.gate.clear()
    together = Coalescer(calls)
    first = asyncio.create_task(together.submit("a", 0))
    await asyncio.sleep(0.01)  # the first batch is now running (and held)
    later = [asyncio.create_task(together.submit("a", i)) for i in (2, 4, 6)]
    await asyncio.sleep(0.01)
    calls.gate.set()
    assert await first == 0
    assert [await task for task in later] == [20, 40, 60]
    assert calls.batches == [("a", [0]), ("a", [2, 4, 6])]
    assert (together.batches, together.items) == (2, 4)


async def test_each_caller_gets_its_own_result_or_its_own_error() -> None:
    together = Coalescer(Recorder())
    results = await asyncio.gather(*(together.submit("a", i) for i in range(6)), return_exceptions=True)
    assert results[0::2] == [0, 20, 40]
    assert [str(e) for e in results[1::2]] == ["odd 1", "odd 3", "odd 5"]


async def test_keys_are_batched_apart() -> None:
    calls = Recorder()
    calls.gate.clear()
    together = Coalescer(calls)
    tasks = [asyncio.create_task(together.submit(key, i)) for key, i in (("a", 0), ("b", 2), ("a", 4), ("b", 6))]
    await asyncio.sleep(0.01)
    calls.gate.set()
    assert await asyncio.gather(*tasks) == [0, 20, 40, 60]
    assert sorted(calls.batches) == [("a", [0, 4]), ("b", [2, 6])]


async def test_max_batch_caps_a_batch() -> None:
    calls = Recorder()
    calls.gate.clear()
    together = Coalescer(calls, max_batch=2)
    tasks = [asyncio.create_task(together.submit("a", i * 2)) for i in range(5)]
    await asyncio.sleep(0.01)
    calls.gate.set()
    await asyncio.gather(*tasks)
    # submitted in one turn of the loop, before the batch task first ran
    assert [items for _, items in calls.batches] == [[0, 2], [4, 6], [8]]


async def test_a_failing_batch_call_fails_every_caller_of_that_batch_only() -> None:
    state = {"fail": True}

    async def flaky(key: Hashable, items: Sequence[int]) -> list[int]:
        await asyncio.sleep(0.01)
        if state.pop("fail", False):
            raise RuntimeError("database gone")
        return list(items)

    together = Coalescer(flaky)
    first = asyncio.create_task(together.submit("a", 1))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="database gone"):
        await first
    assert await together.submit("a", 2) == 2


async def test_a_cancelled_caller_does_not_cancel_the_batch_it_started() -> None:
    calls = Recorder()
    calls.gate.clear()
    together = Coalescer(calls)
    starter = asyncio.create_task(together.submit("a", 0))
    await asyncio.sleep(0.01)
    other = asyncio.create_task(together.submit("a", 2))
    await asyncio.sleep(0.01)
    starter.cancel()
    calls.gate.set()
    assert await other == 20
    with pytest.raises(asyncio.CancelledError):
        await starter


async def test_a_batch_call_with_the_wrong_number_of_results_is_an_error() -> None:
    async def short(key: Hashable, items: Sequence[int]) -> list[int]:
        return []

    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        await Coalescer(short).submit("a", 1)


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Coalescer(Recorder(), max_batch=0)
