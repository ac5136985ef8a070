"""The stage rules: a pure function of a customer's facts, the time and the config.

Because the stage depends only on facts derived from the whole timeline (never on the order events
arrived in), processing events incrementally and recomputing everything give the same stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.lifecycle.config import LifecycleConfig


def gaps_ms(keys: Sequence[tuple[int, int]]) -> list[int]:
    """The gaps between consecutive purchases (keys in time order), whole milliseconds, ascending."""
    return sorted(round((later[0] - earlier[0]) / 1000) for earlier, later in zip(keys, keys[1:]))


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules know about one customer, summarised from the timeline (see customer_metrics)."""

    customer_id: int
    created_at: datetime
    has_contact: bool
    signup_at: datetime | None = None
    first_purchase_at: datetime | None = None
    second_purchase_at: datetime | None = None
    kth_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    last_purchase_event_id: int | None = None
    purchase_count: int = 0
    monetary_total: float = 0.0
    median_gap_days: float | None = None
    # Every purchase as (time in microseconds since the Unix epoch, event id), ascending: what the
    # gaps (and so median_gap_days) are computed from, and what lets a late purchase be merged exactly.
    purchase_keys: tuple[tuple[int, int], ...] = ()
    last_cancel_at: datetime | None = None
    last_cancel_event_id: int | None = None
    last_complaint_at: datetime | None = None
    last_complaint_event_id: int | None = None
    last_survey_at: datetime | None = None
    last_survey_score: int | None = None
    last_survey_event_id: int | None = None
    last_reactivation_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the rules put a customer, since when, and which rule decided it."""

    stage: str
    since: datetime
    rule: str


def place(facts: Facts, now: datetime, config: LifecycleConfig) -> Placement:
    """The stage a customer is in at ``now``, per the rules in the README table."""
    horizon = timedelta(days=config.churn_horizon_days)
    last_buy = facts.last_purchase_at
    # A cancellation and a purchase at the same instant: the cancellation counts as later.
    if facts.last_cancel_at is not None and (last_buy is None or facts.last_cancel_at >= last_buy):
        return Placement("CHURNED", facts.last_cancel_at, "cancellation")
    if last_buy is not None and now - last_buy > horizon:
        return Placement("CHURNED", last_buy + horizon, "inactivity")
    comeback = facts.last_reactivation_at
    if comeback is not None:
        back_to_normal = comeback + timedelta(days=config.reactivated_days)
        if now < back_to_normal:
            return Placement("REACTIVATED", comeback, "reactivation")
    # Tenure restarts at a comeback: a reactivated customer proves loyalty again.
    tenure_start = comeback or facts.first_purchase_at
    if (
        tenure_start is not None
        and facts.kth_purchase_at is not None
        and now - tenure_start >= timedelta(days=config.retention_tenure_days)
    ):
        since = max(tenure_start + timedelta(days=config.retention_tenure_days), facts.kth_purchase_at)
        return Placement("RETENTION", since, "retention")
    if facts.purchase_count >= 2:
        if comeback is not None:
            return Placement("GROWTH", comeback + timedelta(days=config.reactivated_days), "reactivation_settled")
        assert facts.second_purchase_at is not None
        return Placement("GROWTH", facts.second_purchase_at, "repeat_purchase")
    if facts.purchase_count == 1:
        assert facts.first_purchase_at is not None
        return Placement("CONVERSION", facts.first_purchase_at, "first_purchase")
    if facts.signup_at is not None:
        return Placement("ACQUISITION", facts.signup_at, "signup")
    if facts.has_contact:
        return Placement("ACQUISITION", facts.created_at, "contact_data")
    return Placement("AWARENESS", facts.created_at, "prospect")


def days_since_last_purchase(facts: Facts, now: datetime) -> float | None:
    if facts.last_purchase_at is None:
        return None
    return (now - facts.last_purchase_at) / timedelta(days=1)


FORWARD = ("AWARENESS", "ACQUISITION", "CONVERSION", "GROWTH", "RETENTION")


def path_to(old_stage: str, placement: Placement, facts: Facts, config: LifecycleConfig) -> list[Placement]:
    """The moves from ``old_stage`` to ``placement``, with the forward stages passed on the way.

    A batch (or a historical import) can carry a customer across several stages at once; the
    history records each forward stage it reached, at the time it was reached, so funnels and
    cohorts read true entry times. Only moves that start in the forward funnel are expanded.
    """
    if old_stage not in FORWARD:
        return [placement]
    reached = [
        Placement("ACQUISITION", _first(facts.signup_at, facts.created_at if facts.has_contact else None,
                                        facts.first_purchase_at), "signup"),
        Placement("CONVERSION", facts.first_purchase_at, "first_purchase"),  # type: ignore[arg-type]
        Placement("GROWTH", facts.second_purchase_at, "repeat_purchase"),  # type: ignore[arg-type]
    ]
    if facts.first_purchase_at is not None and facts.kth_purchase_at is not None:
        tenure = facts.first_purchase_at + timedelta(days=config.retention_tenure_days)
        reached.append(Placement("RETENTION", max(tenure, facts.kth_purchase_at), "retention"))
    low = FORWARD.index(old_stage)
    high = FORWARD.index(placement.stage) if placement.stage in FORWARD else len(FORWARD)
    steps = [
        step for step in reached
        if step.since is not None and low < FORWARD.index(step.stage) < high and step.since <= placement.since
    ]
    return [*sorted(steps, key=lambda s: (s.since, FORWARD.index(s.stage))), placement]


def _first(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None
