"""The per-process copy budgets and contact policies read on every decision."""

from __future__ import annotations

import asyncio

import pytest

from services.offers.refreshed import Refreshed


async def test_concurrent_readers_of_a_stale_copy_load_it_once() -> None:
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return loads

    copy = Refreshed(load, ttl=60)
    assert await asyncio.gather(*(copy.get() for _ in range(20))) == [1] * 20
    assert loads == 1


async def test_an_invalidated_or_expired_copy_is_read_again() -> None:
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return loads

    copy = Refreshed(load, ttl=60)
    assert await copy.get() == 1
    copy.invalidate()
    assert await copy.get() == 2
    copy.ttl = 0
    assert await copy.get() == 3


def test_a_negative_ttl_is_refused_with_its_name() -> None:
    async def load() -> int:
        return 0

    with pytest.raises(ValueError, match="ttl"):
        Refreshed(load, ttl=-1)
