"""Property: incremental lifecycle processing, in any arrival order and batching, ends exactly where
a full recompute from the timeline does (stages, metrics and active alarms)."""

from __future__ import annotations

import itertools
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from db.models import Alert, Customer, CustomerMetrics
from services.container import Services
from services.domain import CustomerDraft, EventDraft
from services.lifecycle.config import LifecycleConfig
from services.lifecycle.facts import at_micros

NOW = datetime.now(UTC).replace(microsecond=0)
CONFIG = LifecycleConfig(
    churn_horizon_days=120, retention_tenure_days=200, retention_min_purchases=3,
    reactivated_days=60, alert_lookback_days=200,
)
TYPES = ["PURCHASE"] * 4 + ["SUBSCRIPTION_CANCELLED", "SIGNUP", "TRIAL_STARTED", "COMPLAINT", "SURVEY", "CONTACT"]
_run = itertools.count()
# Columns that say when and how facts were stored, not what they are.
BOOKKEEPING = ("updated_at", "facts_basis")

event = st.tuples(
    st.integers(0, 3),  # which customer
    st.sampled_from(TYPES),
    st.integers(0, 700),  # days ago: a coarse grid, so ties happen
    st.integers(0, 10),  # survey score
)


def draft(prefix: str, item: tuple[int, str, int, int]) -> EventDraft:
    who, kind, days_ago, score = item
    extra: dict[str, Any] = {}
    if kind == "PURCHASE":
        extra["amount"] = 10.0 + days_ago % 7
    if kind == "SURVEY":
        extra["score"] = score
    return EventDraft(f"{prefix}-{who}", kind, NOW - timedelta(days=days_ago), **extra)


async def snapshot(services: Services, prefix: str) -> tuple[Any, ...]:
    async with services.sessions() as session:
        ids = dict((await session.execute(
            select(Customer.external_id, Customer.id).where(Customer.external_id.like(f"{prefix}-%"))
        )).all())
        stages = dict((await session.execute(
            select(Customer.external_id, Customer.stage).where(Customer.id.in_(ids.values()))
        )).all())
        # A customer without events has no metrics row until a full recompute writes an empty one.
        metrics = sorted(
            row for row in (
                tuple(getattr(m, c.name) for c in CustomerMetrics.__table__.c if c.name not in BOOKKEEPING)
                for m in (await session.scalars(
                    select(CustomerMetrics).where(CustomerMetrics.customer_id.in_(ids.values()))
                )).all()
            )
            if any(row[1:])
        )
        alerts = sorted((await session.execute(
            select(Alert.customer_id, Alert.type)
            .where(Alert.customer_id.in_(ids.values()), Alert.status.in_(("OPEN", "ACTIONED")))
        )).all())
    return stages, metrics, alerts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(event, min_size=1, max_size=30), data=st.data())
async def test_incremental_processing_in_any_order_equals_a_full_recompute(
    services: Services, events: list[tuple[int, str, int, int]], data: st.DataObject
) -> None:
    """Both ways a pass gets its facts: in-order arrivals merge into the stored facts, others
    (and customers without stored facts) are derived from the timeline; inline or queued."""
    services.lifecycle.clock = lambda: NOW
    services.lifecycle._base = CONFIG
    # 0: every batch queued for the drainer; 1: single-customer batches inline; 100: all inline.
    services.lifecycle.inline_max = data.draw(st.sampled_from([0, 1, 100]), label="inline_max")
    prefix = f"p{next(_run)}"
    # Contact data places a customer on upsert, so they have stored facts before any event.
    with_contact = data.draw(st.booleans(), label="with_contact")
    assert not (await services.customers.upsert_many(
        [CustomerDraft(external_id=f"{prefix}-{i}", email=f"{prefix}-{i}@example.com" if with_contact else None)
         for i in range(4)]
    )).errors
    await services.lifecycle.drain_all()
    if data.draw(st.booleans(), label="chronological"):
        arrival = sorted(events, key=lambda e: -e[2])  # oldest first: the merge path
    else:
        arrival = data.draw(st.permutations(events), label="arrival")
    cuts = sorted(data.draw(st.sets(st.integers(1, max(len(events) - 1, 1)), max_size=5), label="cuts"))
    for start, end in zip([0, *cuts], [*cuts, len(events)]):
        if start < end:
            result = await services.events.record_many([draft(prefix, e) for e in arrival[start:end]])
            assert not result.errors
            if data.draw(st.booleans(), label="drain now"):
                await services.lifecycle.drain_all()
    await services.lifecycle.drain_all()

    incremental = await snapshot(services, prefix)
    await services.lifecycle.recompute(scores_too=False)
    assert await snapshot(services, prefix) == incremental
    await check_purchase_facts_against_python(services, prefix, events)


async def test_late_purchases_merge_into_stored_facts_unless_a_cancellation_is_on_record(services: Services) -> None:
    services.lifecycle.clock = lambda: NOW
    services.lifecycle._base = CONFIG
    assert not (await services.customers.upsert_many([CustomerDraft("m-1", email="m1@example.com")])).errors
    merged, derived = services.lifecycle.facts_merged, services.lifecycle.facts_derived

    def counts() -> tuple[int, int]:
        return services.lifecycle.facts_merged - merged, services.lifecycle.facts_derived - derived

    for days_ago in (300, 200, 150, 40):
        await services.events.record_many([draft("m", (1, "PURCHASE", days_ago, 0))])
    assert counts() == (4, 0)
    # Older than the latest purchase: it takes its rank among the stored purchases and splits the
    # gap 300 -> 200 in two; merged, not re-derived.
    await services.events.record_many([draft("m", (1, "PURCHASE", 250, 0))])
    assert counts() == (5, 0)
    # A survey only replaces the latest survey: merged even when it is old.
    await services.events.record_many([draft("m", (1, "SURVEY", 500, 9))])
    # A cancellation after the latest purchase is merged; a late purchase after that is not, since
    # which purchases follow a cancellation (comebacks) is the timeline's to tell.
    await services.events.record_many([draft("m", (1, "SUBSCRIPTION_CANCELLED", 30, 0))])
    assert counts() == (7, 0)
    await services.events.record_many([draft("m", (1, "PURCHASE", 100, 0))])
    assert counts() == (7, 1)

    incremental = await snapshot(services, "m")
    await services.lifecycle.recompute(scores_too=False)
    assert await snapshot(services, "m") == incremental
    async with services.sessions() as session:
        stored = (await session.scalars(select(CustomerMetrics))).one()
    assert stored.purchase_count == 6
    assert [NOW - at_micros(t) for t, _ in stored.purchase_keys] == [timedelta(days=d) for d in (300, 250, 200, 150, 100, 40)]
    assert stored.median_gap_days == 50


async def test_a_late_purchase_reshapes_ranks_gaps_and_comebacks_as_the_timeline_does(services: Services) -> None:
    """A late purchase that closes a gap over the churn horizon takes the comeback away, and one
    before the first purchase becomes the first: merged facts equal the re-derived ones."""
    services.lifecycle.clock = lambda: NOW
    services.lifecycle._base = CONFIG
    assert not (await services.customers.upsert_many([CustomerDraft("g-1", email="g1@example.com")])).errors
    merged, derived = services.lifecycle.facts_merged, services.lifecycle.facts_derived
    for days_ago in (400, 100):  # 300 days apart: over the 120-day horizon, a comeback
        await services.events.record_many([draft("g", (1, "PURCHASE", days_ago, 0))])
    before = await snapshot(services, "g")
    for days_ago in (250, 600):  # closes the gap (150 + 150 > 120: both still comebacks), then a new first
        await services.events.record_many([draft("g", (1, "PURCHASE", days_ago, 0))])
    await services.events.record_many([draft("g", (1, "PURCHASE", 180, 0))])  # 70 + 80: no comeback left
    assert (services.lifecycle.facts_merged - merged, services.lifecycle.facts_derived - derived) == (5, 0)
    incremental = await snapshot(services, "g")
    assert incremental != before
    async with services.sessions() as session:
        stored = (await session.scalars(select(CustomerMetrics))).one()
    assert (stored.purchase_count, stored.first_purchase_at, stored.last_reactivation_at) == (5, NOW - timedelta(days=600), NOW - timedelta(days=250))
    await services.lifecycle.recompute(scores_too=False)
    assert await snapshot(services, "g") == incremental


async def check_purchase_facts_against_python(
    services: Services, prefix: str, events: list[tuple[int, str, int, int]]
) -> None:
    """The SQL facts agree with a plain computation: purchase count and median gap."""
    async with services.sessions() as session:
        rows = (await session.execute(
            select(Customer.external_id, CustomerMetrics.purchase_count, CustomerMetrics.median_gap_days)
            .join(CustomerMetrics, CustomerMetrics.customer_id == Customer.id)
            .where(Customer.external_id.like(f"{prefix}-%"))
        )).all()
    for external_id, count, median_gap in rows:
        who = int(external_id.rsplit("-", 1)[1])
        days = sorted(-d for w, kind, d, _ in events if w == who and kind == "PURCHASE")
        assert count == len(days)
        gaps = [b - a for a, b in zip(days, days[1:])]
        expected = statistics.median(gaps) if gaps else None
        assert (median_gap is None) == (expected is None)
        if expected is not None:
            assert abs(median_gap - expected) < 1e-6
