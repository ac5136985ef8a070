"""A believable, reproducible demo portfolio: customers, two years of events, stages and segments.

Everything random comes from ``numpy.random.default_rng(seed)`` and every time is relative to
``now``, which defaults to the fixed ``DEMO_NOW`` (2026-11-01T00:00Z), so one seed always yields
the same portfolio. The data is generated valid, so the loader skips the per-item checks and
writes through the driver's bulk path (COPY on PostgreSQL, executemany on SQLite).

This module is the public face; the parts live beside it: ``demo_catalogue`` (names, regions,
products), ``demo_profiles``, ``demo_portfolio`` (the numpy generator) and ``demo_writer``
(the bulk writer). Stages come from the lifecycle rules, run over the loaded timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import func, select, text

from db.models import Customer as CustomerRow
from db.models import StageChange
from db.repositories.events import EVENT_COLUMNS
from services.demo_portfolio import generate_portfolio
from services.demo_writer import (
    CUSTOMER_COLUMNS,
    BulkWriter,
    customer_rows,
    event_rows,
    reserve_ids,
)
from services.domain import STAGES

if TYPE_CHECKING:
    from services.container import Services

__all__ = ["DEMO_NOW", "DemoSummary", "generate_demo", "load_demo_if_empty"]

DEMO_NOW = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    customers: int
    events: dict[str, int]
    referrals: int
    stages: dict[str, int]
    stage_changes: int
    segments: dict[str, int]


async def generate_demo(
    services: Services,
    *,
    customers: int = 5000,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Generate and store a demo portfolio of about ``customers`` customers.

    The same ``seed`` and ``now`` give the same rows. Customers are written in one transaction,
    then events and segment members in transactions of a few bulk chunks, so a
    failure may leave the events partly loaded. ``progress(rows_done, rows_total)`` is called
    after every chunk. ExternalIds are ``demo-<seed>-<n>``: loading one seed twice fails.
    """
    if customers < 1:
        raise ValueError(f"`customers` must be >= 1, got {customers}")
    now = (now or DEMO_NOW).astimezone(UTC)
    portfolio = generate_portfolio(np.random.default_rng(seed), customers, seed)
    segments = {
        "vip": ("Clientes VIP", "Top 5% by demo spend", portfolio.vip),
        "newsletter": ("Newsletter", "Opted in to the newsletter (demo)", portfolio.newsletter),
    }
    segment_ids = {}
    for key, (name, description, _) in segments.items():
        segment_ids[key] = (await services.segments.upsert(key, name, description)).id

    writer = BulkWriter(services, now, progress)
    async with services.sessions.begin() as session:
        ids = await reserve_ids(session, customers)
        writer.total = (
            customers
            + len(portfolio.events)
            + sum(len(members) for *_, members in segments.values())
        )
        await writer.write(
            session, "customers", CUSTOMER_COLUMNS, customer_rows(portfolio, ids, writer)
        )
    await writer.write_in_transactions("events", EVENT_COLUMNS, event_rows(portfolio, ids, writer))
    members = [
        (segment_ids[key], int(ids[i]), writer.stamp(0.0))
        for key, (*_, chosen) in segments.items()
        for i in chosen
    ]
    await writer.write_in_transactions(
        "segment_members", ("segment_id", "customer_id", "added_at"), members
    )
    # A bulk load leaves the planner's statistics stale; refresh them before anyone queries.
    async with services.engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
    # Customers are written as prospects; the lifecycle rules then place every one of them from
    # the loaded timeline (stages with their history, metrics, alarms, churn reasons, RFM scores,
    # tiers and rule segments), exactly as ingestion would have.
    lifecycle = await services.lifecycle.recompute()
    async with services.sessions() as session:
        moves = await session.scalar(
            select(func.count()).select_from(StageChange).where(StageChange.customer_id.between(int(ids[0]), int(ids[-1])))
        )
    return DemoSummary(
        customers=customers,
        events={
            str(t): int(n) for t, n in zip(*np.unique(portfolio.events.types, return_counts=True))
        },
        referrals=int((portfolio.referrer >= 0).sum()),
        stages={s: lifecycle.stages[s] for s in STAGES if lifecycle.stages.get(s)},
        stage_changes=int(moves or 0),
        segments={key: len(chosen) for key, (*_, chosen) in segments.items()},
    )


async def load_demo_if_empty(
    services: Services, *, customers: int = 5000, seed: int = 7
) -> DemoSummary | None:
    """Load the demo portfolio only into a database with no customers; None when it had some."""
    async with services.sessions() as session:
        if await session.scalar(select(func.count()).select_from(CustomerRow)):
            return None
    return await generate_demo(services, customers=customers, seed=seed)
