"""The stage rules as a pure function: each row of the README table, and the edges between them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.lifecycle.config import LifecycleConfig
from services.lifecycle.rules import Facts, place

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CONFIG = LifecycleConfig()
BASE = Facts(customer_id=1, created_at=NOW - timedelta(days=900), has_contact=False)


def days(n: float) -> datetime:
    return NOW - timedelta(days=n)


def buyer(count: int, first: float, last: float, **more: object) -> Facts:
    return replace(
        BASE, purchase_count=count, first_purchase_at=days(first), last_purchase_at=days(last),
        second_purchase_at=days(last if count == 2 else first - 1) if count >= 2 else None, **more,  # type: ignore[arg-type]
    )


def test_a_known_prospect_without_signup_is_in_awareness() -> None:
    assert place(BASE, NOW, CONFIG).stage == "AWARENESS"


def test_signup_trial_or_contact_data_means_acquisition() -> None:
    assert place(replace(BASE, signup_at=days(3)), NOW, CONFIG).rule == "signup"
    assert place(replace(BASE, has_contact=True), NOW, CONFIG).stage == "ACQUISITION"


def test_first_purchase_converts_and_second_purchase_means_growth() -> None:
    assert place(buyer(1, 10, 10), NOW, CONFIG).stage == "CONVERSION"
    placed = place(buyer(2, 20, 10), NOW, CONFIG)
    assert (placed.stage, placed.since) == ("GROWTH", days(10))


def test_retention_needs_both_tenure_and_purchase_count() -> None:
    loyal = buyer(6, 400, 5, kth_purchase_at=days(5))
    placed = place(loyal, NOW, CONFIG)
    assert (placed.stage, placed.since) == ("RETENTION", days(5))
    assert place(replace(loyal, kth_purchase_at=None, purchase_count=5), NOW, CONFIG).stage == "GROWTH"
    assert place(buyer(6, 100, 5, kth_purchase_at=days(5)), NOW, CONFIG).stage == "GROWTH"


def test_cancellation_or_inactivity_beyond_the_horizon_churns() -> None:
    cancelled = place(buyer(3, 60, 30, last_cancel_at=days(2)), NOW, CONFIG)
    assert (cancelled.stage, cancelled.rule, cancelled.since) == ("CHURNED", "cancellation", days(2))
    idle = place(buyer(3, 400, 200), NOW, CONFIG)
    assert (idle.stage, idle.rule, idle.since) == ("CHURNED", "inactivity", days(20))


def test_a_purchase_at_the_same_instant_as_a_cancellation_does_not_undo_it() -> None:
    assert place(buyer(2, 60, 2, last_cancel_at=days(2)), NOW, CONFIG).stage == "CHURNED"


def test_a_comeback_is_reactivated_then_returns_to_growth_after_m_days() -> None:
    back = buyer(3, 400, 10, last_reactivation_at=days(10))
    assert place(back, NOW, CONFIG).stage == "REACTIVATED"
    later = NOW + timedelta(days=CONFIG.reactivated_days)
    placed = place(back, later, CONFIG)
    assert (placed.stage, placed.rule) == ("GROWTH", "reactivation_settled")


def test_a_jump_across_several_stages_records_each_forward_stage_when_it_was_reached() -> None:
    from services.lifecycle.rules import path_to

    facts = buyer(3, 300, 200, signup_at=days(310), last_cancel_at=days(100))
    placed = place(facts, NOW, CONFIG)
    steps = [(s.stage, s.since) for s in path_to("AWARENESS", placed, facts, CONFIG)]
    assert steps == [
        ("ACQUISITION", days(310)), ("CONVERSION", days(300)), ("GROWTH", days(299)), ("CHURNED", days(100)),
    ]
    # From outside the forward funnel there is no path to replay.
    assert [s.stage for s in path_to("CHURNED", placed, facts, CONFIG)] == ["CHURNED"]
