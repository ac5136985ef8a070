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

    async def state() -> tuple[object, ...]:
        async with services.sessions() as session:
            stages = sorted((await session.execute(select(Customer.id, Customer.stage))).all())
            counts = sorted((await session.execute(
                select(CustomerMetrics.customer_id, CustomerMetrics.purchase_count, CustomerMetrics.last_purchase_at)
            )).all())
        return stages, counts

    before = await state()
    await services.lifecycle.recompute(scores_too=False)
    assert await state() == before
