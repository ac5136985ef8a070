"""A merge carries every fact the new events do not touch, whatever fields Facts grows."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from services.lifecycle.config import LifecycleConfig
from services.lifecycle.facts import merge, micros
from services.lifecycle.rules import Facts, gaps_ms

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Logged(NamedTuple):
    id: int
    customer_id: int
    type: str
    occurred_at: datetime
    amount: float | None = None
    score: int | None = None


def test_a_purchase_merge_keeps_every_untouched_fact() -> None:
    facts = Facts(
        customer_id=7, created_at=T0, has_contact=True, signup_at=T0 + timedelta(days=1),
        first_purchase_at=T0 + timedelta(days=2), second_purchase_at=T0 + timedelta(days=3),
        kth_purchase_at=None, last_purchase_at=T0 + timedelta(days=3), last_purchase_event_id=30,
        purchase_count=2, monetary_total=20.0, median_gap_days=1.0,
        purchase_keys=((micros(T0 + timedelta(days=2)), 20), (micros(T0 + timedelta(days=3)), 30)),
        last_cancel_at=T0 + timedelta(hours=1), last_cancel_event_id=5, last_complaint_at=T0 + timedelta(days=2),
        last_complaint_event_id=25, last_survey_at=T0 + timedelta(days=2), last_survey_score=9,
        last_survey_event_id=26, last_reactivation_at=T0 + timedelta(days=2, hours=1),
    )
    merged = merge(facts, [Logged(40, 7, "PURCHASE", T0 + timedelta(days=5), amount=5.5)], LifecycleConfig())
    assert merged is not None
    touched = {"last_purchase_at", "last_purchase_event_id", "purchase_count", "monetary_total", "median_gap_days",
               "purchase_keys"}
    for field in fields(Facts):
        if field.name not in touched:
            assert getattr(merged, field.name) == getattr(facts, field.name), field.name
    assert (merged.purchase_count, merged.monetary_total, gaps_ms(merged.purchase_keys)) == (3, 25.5, [86_400_000, 172_800_000])
    assert merged.median_gap_days == 1.5
    assert merged.purchase_keys == (*facts.purchase_keys, (micros(T0 + timedelta(days=5)), 40))
