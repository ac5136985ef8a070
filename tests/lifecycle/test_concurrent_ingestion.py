"""Concurrent recordEvents batches on the same customers neither deadlock nor lose an event: the
lifecycle pass serialises per customer, so the end state equals a full recompute."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from db.models import Customer, CustomerMetrics
from services.container import Services
from services.domain import CustomerDraft, EventDraft

NOW = datetime.now(UTC).replace(microsecond=0)


async def _state(services: Services) -> tuple[object, ...]:
    """Every customer's stage and purchase facts, to compare with what a recompute gives."""
    async with services.sessions() as session:
        stages = sorted((await session.execute(select(Customer.id, Customer.stage))).all())
        counts = sorted((await session.execute(
            select(CustomerMetrics.customer_id, CustomerMetrics.purchase_count, CustomerMetrics.last_purchase_at)
        )).all())
    return stages, counts


async def test_concurrent_batches_on_overlapping_customers_match_a_recompute(services: Services) -> None:
    services.lifecycle.clock = lambda: NOW
    await services.customers.upsert_many([CustomerDraft(external_id=f"z{i}") for i in range(20)])
    rng = random.Random(5)
    kinds = ["PURCHASE", "PURCHASE", "COMPLAINT", "SURVEY", "SUBSCRIPTION_CANCELLED"]

    def batch() -> list[EventDraft]:
        drafts = []
        for _ in range(50):
            kind = rng.choice(kinds)
            drafts.append(EventDraft(
                f"z{rng.randrange(20)}", kind, NOW - timedelta(days=rng.randrange(400)),
                amount=5.0 if kind == "PURCHASE" else None, score=rng.randrange(11) if kind == "SURVEY" else None,
            ))
        return drafts

    results = await asyncio.gather(*(services.events.record_many(batch()) for _ in range(8)))
    assert all(not r.errors for r in results)

    before = await _state(services)
    await services.lifecycle.recompute(scores_too=False)
    assert await _state(services) == before


async def test_a_drain_running_beside_inline_batches_on_the_same_customers_matches_a_recompute(services: Services) -> None:
    from dataclasses import replace

    from services.events import Events
    from services.lifecycle.service import Lifecycle

    services.lifecycle.clock = lambda: NOW
    await services.customers.upsert_many([CustomerDraft(external_id=f"d{i}") for i in range(30)])
    # One Lifecycle with a low inline limit: the 30-customer batches are queued, the 3-customer
    # ones run their pass inline, all through the services' one write gate.
    lifecycle = Lifecycle(services.sessions, inline_max=5, clock=lambda: NOW, write_gate=services.events._gate)
    events = Events(services.sessions, on_recorded=lifecycle.on_events, write_gate=services.events._gate)
    rng = random.Random(9)

    def purchases(customers: range, n: int) -> list[EventDraft]:
        return [EventDraft(f"d{rng.choice(customers)}", "PURCHASE", NOW - timedelta(days=rng.randrange(1, 300)), amount=3.0)
                for _ in range(n)]

    for _ in range(3):
        await events.record_many([replace(e, external_id=f"d{i}") for i, e in enumerate(purchases(range(30), 30))])
    assert await lifecycle.queued() == 90
    small = [events.record_many(purchases(range(c, c + 3), 4)) for c in range(0, 30, 3)]
    results = await asyncio.gather(lifecycle.drain_all(), *small)
    assert all(not r.errors for r in results[1:])
    await lifecycle.drain_all()

    before = await _state(services)
    await services.lifecycle.recompute(scores_too=False)
    assert await _state(services) == before
