"""What a decision point learns from an outcome, as one pure function of the outcome and the lever."""

from __future__ import annotations

from services.offers.values import Lever


def reward_of(kind: str, lever: Lever | None, accepted: bool, revenue: float | None) -> float:
    """ACCEPTED: 1 or 0. REVENUE: the revenue of an accepted offer, else 0. NET_VALUE: revenue
    minus what the lever cost: its discount and cost shares of revenue and its unit cost when
    accepted, and its contact cost always (a declined call still cost the call)."""
    earned = (revenue or 0.0) if accepted else 0.0
    if kind == "ACCEPTED":
        return 1.0 if accepted else 0.0
    if kind == "REVENUE":
        return earned
    if lever is None:
        return earned
    cost = lever.contact_cost + (lever.cost_if_accepted(earned) if accepted else 0.0)
    return earned - cost
