"""Stable assignment of customers: to the control group (per period) and to policy arms.

Both draw a number in [0, 1) from a hash of the customer id, the decision point key and a salt,
so the same customer lands in the same place on every worker, database and restart, and control
membership is independent of the arm (different salts).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from services.offers.values import DecisionPoint

_SCALE = float(2**64)


def unit_hash(customer_id: int, point_key: str, salt: str) -> float:
    digest = hashlib.blake2b(f"{customer_id}:{point_key}:{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def control_period(now: datetime, days: int) -> int:
    """The number of the ``days``-long period ``now`` falls in (periods start at the Unix epoch)."""
    return int(now.timestamp() // (days * 86_400))


def in_control(customer_ids: Sequence[int], point: DecisionPoint, now: datetime) -> np.ndarray:
    """Boolean per customer: a member of the point's control group for the current period."""
    rails = point.guardrails
    if rails.control_share <= 0:
        return np.zeros(len(customer_ids), dtype=bool)
    salt = f"control:{control_period(now, rails.control_period_days)}"
    return np.array([unit_hash(c, point.key, salt) < rails.control_share for c in customer_ids], dtype=bool)


def serving_arm(customer_ids: Sequence[int], point: DecisionPoint) -> list[str]:
    """The arm that serves each customer: the champion unless a challenger's traffic share covers them."""
    rails = point.guardrails
    serving = [a for a in rails.challengers if not a.shadow]
    if not serving:
        return [rails.champion] * len(customer_ids)
    bounds: list[tuple[float, str]] = []
    edge = 0.0
    for arm in serving:
        edge += arm.traffic_percent / 100.0
        bounds.append((edge, arm.name))
    out = []
    for customer_id in customer_ids:
        u = unit_hash(customer_id, point.key, "arm")
        out.append(next((name for bound, name in bounds if u < bound), rails.champion))
    return out


def shadow_arm(point: DecisionPoint) -> str | None:
    return next((a.name for a in point.guardrails.challengers if a.shadow), None)
