"""Demo rows straight to the driver: COPY on PostgreSQL, executemany on SQLite.

The generated portfolio is valid by construction, so it skips the ORM and the per-item checks;
the ORM's per-row work is what made loading slow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer as CustomerRow
from services.domain import CHANNELS

if TYPE_CHECKING:
    from services.container import Services
    from services.demo_portfolio import Portfolio

CHUNK = 10_000
CHUNKS_PER_TRANSACTION = 5
CUSTOMER_COLUMNS = (
    "id",
    "external_id",
    "name",
    "email",
    "phone",
    "region",
    "attributes",
    "acquisition_channel",
    "referred_by_id",
    "stage",
    "stage_changed_at",
    "created_at",
    "updated_at",
    "erased_at",
)


async def reserve_ids(session: AsyncSession, n: int) -> np.ndarray:
    """``n`` ascending customer ids that no other row will take."""
    # Explicit ids let referrals, events and history be built without reading rows back.
    if session.get_bind().dialect.name == "postgresql":
        query = text(
            "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, :n)"
        )
        return np.sort(np.array((await session.scalars(query, {"n": n})).all(), dtype=np.int64))
    top = await session.scalar(select(func.coalesce(func.max(CustomerRow.id), 0)))
    return np.arange(int(top or 0) + 1, int(top or 0) + 1 + n, dtype=np.int64)


class BulkWriter:
    """Writes rows in chunks of ``CHUNK`` and reports ``progress(done, total)`` after each."""

    def __init__(
        self, services: Services, now: datetime, progress: Callable[[int, int], None] | None
    ):
        self._services = services
        self._progress = progress
        self.postgres = services.engine.dialect.name == "postgresql"
        self.base = np.datetime64(now.replace(tzinfo=None), "s")
        self.done = self.total = 0

    def stamps(self, days: np.ndarray) -> list[Any]:
        """Days relative to now as the driver wants them: aware datetimes, or SQLite's text."""
        moments = self.base + np.round(np.asarray(days) * 86_400).astype("timedelta64[s]")
        if self.postgres:
            return [m.replace(tzinfo=UTC) for m in moments.astype("datetime64[us]").tolist()]
        return [s.replace("T", " ") + ".000000" for s in np.datetime_as_string(moments).tolist()]

    def stamp(self, day: float) -> Any:
        return self.stamps(np.array([day]))[0]

    async def write(
        self, session: AsyncSession, table: str, columns: Sequence[str], rows: list[tuple]
    ) -> None:
        connection = await session.connection()
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if self.postgres:
                # asyncpg opens the transaction on the first statement; COPY must run inside it.
                await connection.execute(text("SELECT 1"))
                raw = await connection.get_raw_connection()
                await raw.driver_connection.copy_records_to_table(
                    table, columns=list(columns), records=chunk
                )
            else:
                marks = ", ".join("?" * len(columns))
                await connection.exec_driver_sql(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", chunk
                )
            self.done += len(chunk)
            if self._progress is not None:
                self._progress(self.done, self.total)

    async def write_in_transactions(
        self, table: str, columns: Sequence[str], rows: list[tuple]
    ) -> None:
        step = CHUNK * CHUNKS_PER_TRANSACTION
        for start in range(0, len(rows), step):
            async with self._services.sessions.begin() as session:
                await self.write(session, table, columns, rows[start : start + step])


def customer_rows(portfolio: Portfolio, ids: np.ndarray, writer: BulkWriter) -> list[tuple]:
    """One row per customer in ``CUSTOMER_COLUMNS`` order, as a prospect: the lifecycle
    recompute that follows the load places each one."""
    created = writer.stamps(portfolio.created)
    referrer = [int(ids[r]) if r >= 0 else None for r in portfolio.referrer.tolist()]
    return [
        (
            int(ids[i]),
            f"demo-{portfolio.seed}-{i + 1:06d}",
            name,
            email,
            phone,
            region,
            attributes,
            CHANNELS[portfolio.channel[i]],
            referrer[i],
            "AWARENESS",
            created[i],
            created[i],
            created[i],
            None,
        )
        for i, (name, email, phone, region, attributes) in enumerate(portfolio.profile)
    ]


def event_rows(portfolio: Portfolio, ids: np.ndarray, writer: BulkWriter) -> list[tuple]:
    """One row per event in ``EVENT_COLUMNS`` order, recorded when it occurred."""
    e = portfolio.events
    stamps = writer.stamps(e.days)
    currency = ["EUR" if a is not None else None for a in e.amount]
    return list(
        zip(
            ids[e.owner].tolist(),
            e.types.tolist(),
            stamps,
            stamps,
            e.amount,
            currency,
            e.category,
            e.score,
            e.channel,
            e.direction,
            e.reason,
            ["{}"] * len(e),
            [None] * len(e),
        )
    )
