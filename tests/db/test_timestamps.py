"""SQLite timestamps: the fast bind and result processors store and read exactly what the generic
TypeDecorator chain over SQLAlchemy's SQLite DATETIME did."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from db.base import UtcDateTime, sqlite_timestamp

DIALECT = sqlite.dialect()
TYPE = UtcDateTime()
IMPL_BIND = sqlite.DATETIME().bind_processor(DIALECT)
IMPL_RESULT = sqlite.DATETIME().result_processor(DIALECT, None)


def _random_times(seed: int, n: int) -> list[datetime]:
    rng = random.Random(seed)
    zones = [UTC, timezone(timedelta(0)), timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    return [
        datetime(rng.randint(2, 9998), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
                 rng.randint(0, 59), rng.choice([0, rng.randint(0, 999_999)]), tzinfo=rng.choice(zones))
        for _ in range(n)
    ]


def test_bind_writes_the_generic_chains_text() -> None:
    fast = TYPE._cached_bind_processor(DIALECT)
    for value in _random_times(1, 5_000):
        expected = IMPL_BIND(TYPE.process_bind_param(value, DIALECT))
        assert fast(value) == expected == sqlite_timestamp(value)
    assert fast(None) is None


def test_result_reads_back_the_same_utc_instant() -> None:
    fast = TYPE._cached_result_processor(DIALECT, None)
    for value in _random_times(2, 5_000):
        text = sqlite_timestamp(value)
        expected = TYPE.process_result_value(IMPL_RESULT(text), DIALECT)
        read = fast(text)
        assert read == expected == value and read.utcoffset() == timedelta(0)
    assert fast(None) is None
    assert fast("2026-03-04 05:06:07") == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)  # stored without microseconds


def test_naive_times_are_refused_on_the_way_in() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        TYPE._cached_bind_processor(DIALECT)(datetime(2026, 1, 1))
