"""The churn alarms: which causes call for an alert now, a pure function like the stage rules.

Each alarm measures the customer against their own history: INACTIVITY compares the time since
the last purchase with k times their median gap between purchases (a floor in days while there
are fewer than 3 purchases). A purchase after the cause ends it; so does a recovered survey score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.lifecycle.config import LifecycleConfig
from services.lifecycle.rules import Facts

SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
_BASE = {"NEGATIVE_SURVEY": 0, "COMPLAINT": 0, "INACTIVITY": 0, "CANCELLATION_REQUEST": 1}
_TIER_BONUS = {"PLATINUM": 2, "GOLD": 1}


@dataclass(frozen=True, slots=True)
class Cause:
    """An alarm that holds for a customer: its type, the evidence event and when the cause began."""

    customer_id: int
    type: str
    evidence_event_id: int | None
    began_at: datetime


def rhythm_days(facts: Facts, config: LifecycleConfig) -> float:
    """How long this customer may go without buying before it is unusual for them."""
    if facts.purchase_count >= 3 and facts.median_gap_days is not None:
        return max(config.inactivity_gap_multiplier * facts.median_gap_days, 1.0)
    return config.inactivity_floor_days


def _bought_since(facts: Facts, at: datetime) -> bool:
    return facts.last_purchase_at is not None and facts.last_purchase_at > at


def causes(facts: Facts, now: datetime, config: LifecycleConfig) -> list[Cause]:
    """Every alarm cause that holds at ``now`` (whether or not an alert was raised for it yet)."""
    found: list[Cause] = []
    cid = facts.customer_id
    if (
        facts.last_survey_at is not None
        and facts.last_survey_score is not None
        and facts.last_survey_score <= config.negative_survey_max_score
        and not _bought_since(facts, facts.last_survey_at)
    ):
        found.append(Cause(cid, "NEGATIVE_SURVEY", facts.last_survey_event_id, facts.last_survey_at))
    if facts.last_complaint_at is not None and not _bought_since(facts, facts.last_complaint_at):
        found.append(Cause(cid, "COMPLAINT", facts.last_complaint_event_id, facts.last_complaint_at))
    # Same instant as a purchase: the cancellation counts as later (as in the stage rules).
    if facts.last_cancel_at is not None and not _bought_since(facts, facts.last_cancel_at):
        found.append(Cause(cid, "CANCELLATION_REQUEST", facts.last_cancel_event_id, facts.last_cancel_at))
    if facts.last_purchase_at is not None:
        overdue_at = facts.last_purchase_at + timedelta(days=rhythm_days(facts, config))
        if now > overdue_at:
            found.append(Cause(cid, "INACTIVITY", facts.last_purchase_event_id, overdue_at))
    return found


def is_fresh(cause: Cause, now: datetime, config: LifecycleConfig) -> bool:
    """Only recent causes raise an alert: an import of old history must not flood the desk."""
    return now - cause.began_at <= timedelta(days=config.alert_lookback_days)


def severity(alert_type: str, tier: str | None, active_causes: int) -> str:
    """Severity rises with the customer's value tier and with several causes at once."""
    level = _BASE[alert_type] + _TIER_BONUS.get(tier or "", 0) + max(active_causes - 1, 0)
    return SEVERITIES[min(level, len(SEVERITIES) - 1)]


def action_for(stage: str) -> str:
    return "RECOVERY" if stage == "CHURNED" else "RETENTION"
