"""services.coalesce: concurrent single calls answered by one batch call."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence

import pytest

from services.coalesce import WINDOW_ENV, Coalescer, window_seconds


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


class Turns:
    """A batch call that holds each batch until the test hands it a turn."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.turns: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, key: Hashable, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        await self.turns.get()
        return [i * 10 for i in items]


async def _two_then_one(together: Coalescer, calls: Turns) -> tuple[list[asyncio.Task], asyncio.Task]:
    """A batch of two callers is running (held) while a third caller waits."""
    pair = [asyncio.create_task(together.submit("a", i)) for i in (0, 1)]  # one turn: one batch
    await asyncio.sleep(0.01)
    third = asyncio.create_task(together.submit("a", 2))
    await asyncio.sleep(0.01)
    assert calls.batches == [[0, 1]]
    return pair, third


@pytest.mark.parametrize("window, batches", [(1.0, [[0, 1], [2, 3]]), (0.0, [[0, 1], [2], [3]])])
async def test_after_a_batch_of_several_the_window_lets_the_next_wave_join(window: float, batches: list) -> None:
    calls = Turns()
    together = Coalescer(calls, window=window)
    pair, third = await _two_then_one(together, calls)
    calls.turns.put_nowait(None)
    assert await asyncio.gather(*pair) == [0, 10]
    # A caller just answered comes back at once: within the window it joins the waiting one.
    fourth = asyncio.create_task(together.submit("a", 3))
    for _ in range(3):
        calls.turns.put_nowait(None)
    assert (await third, await fourth) == (20, 30)
    assert calls.batches == batches


async def test_the_window_never_holds_back_light_traffic_or_a_full_batch() -> None:
    calls = Turns()
    together = Coalescer(calls, max_batch=2, window=60.0)
    # After a batch of one caller, the next runs at once.
    first = asyncio.create_task(together.submit("a", 0))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(together.submit("a", 1))
    await asyncio.sleep(0.01)
    calls.turns.put_nowait(None)
    calls.turns.put_nowait(None)
    assert await asyncio.wait_for(asyncio.gather(first, second), 10) == [0, 10]
    # After a batch of several, a queue already at max_batch runs at once.
    pair = [asyncio.create_task(together.submit("a", i)) for i in (2, 3)]
    await asyncio.sleep(0.01)
    more = [asyncio.create_task(together.submit("a", i)) for i in (4, 5)]
    await asyncio.sleep(0.01)
    calls.turns.put_nowait(None)
    calls.turns.put_nowait(None)
    assert await asyncio.wait_for(asyncio.gather(*pair, *more), 10) == [20, 30, 40, 50]
    assert calls.batches == [[0], [1], [2, 3], [4, 5]]


def test_the_window_comes_from_the_environment_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WINDOW_ENV, raising=False)
    assert window_seconds() == 0.002
    monkeypatch.setenv(WINDOW_ENV, "0")
    assert window_seconds() == 0.0
    monkeypatch.setenv(WINDOW_ENV, "5")
    assert window_seconds() == 0.005
    for bad in ("soon", "-1", "nan", "1000"):
        monkeypatch.setenv(WINDOW_ENV, bad)
        with pytest.raises(ValueError, match=WINDOW_ENV):
            window_seconds()
    with pytest.raises(ValueError, match="window"):
        Coalescer(Recorder(), window=-0.1)


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Coalescer(Recorder(), max_batch=0)
