"""db.periodic: a background loop that survives a failed round and ends on stop."""

from __future__ import annotations

import asyncio

import pytest

from db.periodic import Periodic


async def test_rounds_repeat_a_failed_round_is_retried_and_stop_ends_the_loop() -> None:
    rounds: list[int] = []

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 2:
            raise RuntimeError("one bad round")

    loop = Periodic("test-loop", work, 0.01, wait_first=False)
    loop.start()
    assert loop.running
    for _ in range(200):
        if len(rounds) >= 4:
            break
        await asyncio.sleep(0.01)
    await loop.stop()
    assert not loop.running and len(rounds) >= 4  # the failure at round 2 did not end it
    done = len(rounds)
    await asyncio.sleep(0.05)
    assert len(rounds) == done


async def test_wait_first_waits_one_interval_before_the_first_round() -> None:
    rounds: list[int] = []

    async def work() -> None:
        rounds.append(1)

    loop = Periodic("test-loop", work, 10.0)
    loop.start()
    await asyncio.sleep(0.05)
    await loop.stop()
    assert rounds == []


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="`interval` must be > 0, got 0"):
        Periodic("test-loop", lambda: asyncio.sleep(0), 0)
