"""Declarative base, naming convention and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an "INTEGER PRIMARY KEY", so big ids fall back to INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")

JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps.

    SQLite has no time zones: values are stored as UTC text and given their zone back on load.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Ciclo stores only timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # The text SQLAlchemy's SQLite DATETIME would write for the UTC time, in one step.

        def process(value: datetime | None) -> str | None:
            return None if value is None else sqlite_timestamp(value)
        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLite hands back the stored UTC text: read it aware in one C call. The generic chain
        # (text -> naive datetime -> replace(tzinfo)) cost about 2 us a value, 7x this; every
        # list page and lifecycle pass reads thousands of timestamps.
        fallback = super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                return _fromisoformat(value + "+00:00")
            except (TypeError, ValueError):
                return fallback(value) if fallback else value
        return process


_fromisoformat = datetime.fromisoformat


# How SQLAlchemy's SQLite dialect stores DATETIME values (UTC here). Bulk writers that go straight
# to the driver must use exactly this text, or ordering and comparisons would break.
SQLITE_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def sqlite_timestamp(value: datetime) -> str:
    tz = value.tzinfo
    if tz is None:
        raise ValueError(f"naive datetime {value!r}: Ciclo stores only timezone-aware times")
    if tz is not UTC:
        value = value.astimezone(UTC)
    # SQLITE_TIMESTAMP_FORMAT's text, written by %-formatting: about 3x faster than the previous
    # astimezone().replace(tzinfo=None).isoformat(), itself several times faster than strftime.
    return _SQLITE_TEXT % (
        value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond
    )


_SQLITE_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JsonDocument, datetime: UtcDateTime}
