"""Synthetic customer populations with known ground truth, for simulation and tests.

A scenario is additive in simple customer traits, so a linear policy can in principle learn it:
``P(accept | x, lever) = clip(base[lever] + sum_t effect[t][lever] * trait_t(x), 0.01, 0.95)``.
Accepted offers earn the customer's (margin) value minus what the lever gives away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from engine.arbitration import LeverCost
from engine.errors import InvalidPolicyConfig

FEATURES: tuple[str, ...] = (
    "stage",
    "valueTier",
    "rfm.recency",
    "rfm.frequency",
    "rfm.monetary",
    "daysSinceLastPurchase",
    "openAlerts",
    "churnReason",
    "attributes.price_sensitive",
)
TIERS = ("LOW", "MID", "HIGH")
TIER_VALUE = np.array([40.0, 90.0, 250.0])
CHURN_REASONS = ("NONE", "PRICE", "SERVICE", "COMPETITOR")
STAGES = ("NEW", "ACTIVE", "AT_RISK", "LAPSED")

# What accepting each lever gives away (share of value) and costs (per acceptance, per contact).
LEVER_COSTS: dict[str, LeverCost] = {
    "DISCOUNT_10": LeverCost(percent_of_value=0.25),
    "DISCOUNT_30": LeverCost(percent_of_value=0.75),
    "FREE_SHIPPING": LeverCost(unit_cost=4.0),
    "PERSONAL_CALL": LeverCost(contact_cost=3.0),
    "PREMIUM_SUPPORT": LeverCost(unit_cost=8.0),
    "APOLOGY_CREDIT": LeverCost(unit_cost=5.0),
    "BUNDLE_OFFER": LeverCost(percent_of_value=0.15),
}


@dataclass(frozen=True, slots=True)
class Cohort:
    """Drawn customers: contexts, true acceptance ``(n, k)`` and margin value ``(n,)``."""

    rows: list[dict[str, object]]
    acceptance: np.ndarray
    value: np.ndarray
    net_if_accepted: np.ndarray
    contact_cost: np.ndarray

    def expected(self, metric: str) -> np.ndarray:
        """Expected reward ``(n, k)`` per lever under ``metric`` ("accepted" or "net_value")."""
        if metric == "accepted":
            return self.acceptance
        return self.acceptance * self.net_if_accepted - self.contact_cost

    def realised(self, metric: str, accepted: np.ndarray) -> np.ndarray:
        """Realised reward ``(n, k)`` given which levers would have been accepted."""
        if metric == "accepted":
            return accepted.astype(np.float64)
        return accepted * self.net_if_accepted - self.contact_cost


@dataclass(frozen=True, slots=True)
class Scenario:
    """``eligibility`` holds business rules per lever as rule trees (the service layer's rule
    language, over the scenario's ``FEATURES`` names); the pure-engine simulator ignores them."""

    name: str
    levers: tuple[str, ...]
    base: tuple[float, ...]
    effects: Mapping[str, tuple[float, ...]]
    eligibility: Mapping[str, dict[str, object]] = field(default_factory=dict)

    def costs(self) -> dict[str, LeverCost]:
        return {lever: LEVER_COSTS[lever] for lever in self.levers if lever in LEVER_COSTS}

    def draw(self, n: int, rng: np.random.Generator) -> Cohort:
        """``n`` customers with their true acceptance probabilities."""
        tier = rng.choice(3, size=n, p=[0.5, 0.35, 0.15])
        price_sensitive = rng.random(n) < 0.35
        alerts = np.minimum(rng.poisson(0.35, n), 3)
        churn = rng.choice(4, size=n, p=[0.4, 0.25, 0.2, 0.15])
        days = np.round(rng.exponential(60.0, n))
        frequency = rng.poisson(2 + 2 * tier)
        value = np.round(TIER_VALUE[tier] * rng.lognormal(0.0, 0.3, n), 2)
        stage = rng.choice(4, size=n, p=[0.2, 0.5, 0.2, 0.1])
        traits = {
            "price_sensitive": price_sensitive.astype(float),
            "tier_mid": (tier == 1).astype(float),
            "tier_high": (tier == 2).astype(float),
            "alerts": alerts.astype(float),
            "churn_price": (churn == 1).astype(float),
            "churn_service": (churn == 2).astype(float),
            "churn_competitor": (churn == 3).astype(float),
        }
        logit = np.broadcast_to(np.array(self.base), (n, len(self.levers))).copy()
        for trait, effect in self.effects.items():
            logit += traits[trait][:, None] * np.array(effect)
        acceptance = np.clip(logit, 0.01, 0.95)
        rows: list[dict[str, object]] = [
            {
                "stage": STAGES[s],
                "valueTier": TIERS[t],
                "rfm.recency": float(d),
                "rfm.frequency": int(f),
                "rfm.monetary": float(v),
                "daysSinceLastPurchase": float(d),
                "openAlerts": int(a),
                "churnReason": None if c == 0 else CHURN_REASONS[c],
                "attributes.price_sensitive": bool(p),
            }
            for s, t, d, f, v, a, c, p in zip(
                stage.tolist(), tier.tolist(), days.tolist(), frequency.tolist(), value.tolist(),
                alerts.tolist(), churn.tolist(), price_sensitive.tolist(),
            )
        ]
        costs = [LEVER_COSTS.get(lever, LeverCost()) for lever in self.levers]
        give = np.array([c.percent_of_value for c in costs])
        unit = np.array([c.unit_cost for c in costs])
        contact = np.array([c.contact_cost for c in costs])
        net = value[:, None] * (1.0 - give) - unit
        return Cohort(rows, acceptance, value, net, np.broadcast_to(contact, net.shape))


def _scenario(
    name: str,
    levers: tuple[str, ...],
    base: tuple[float, ...],
    eligibility: Mapping[str, dict[str, object]] | None = None,
    **effects: tuple[float, ...],
) -> Scenario:
    for trait, effect in effects.items():
        if len(effect) != len(levers):
            raise InvalidPolicyConfig(trait, f"`{trait}` needs {len(levers)} effects, got {len(effect)}")
    return Scenario(name, levers, base, effects, dict(eligibility or {}))


# discounts only where price matters; the personal call only for customers worth a call
PRICE_MATTERS = {"any": [
    {"field": "attributes.price_sensitive", "op": "EQ", "value": True},
    {"field": "churnReason", "op": "EQ", "value": "PRICE"},
]}
WORTH_A_CALL = {"field": "valueTier", "op": "IN", "value": ["MID", "HIGH"]}


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        _scenario(
            "retention",
            ("DISCOUNT_10", "FREE_SHIPPING", "PERSONAL_CALL", "NO_ACTION"),
            (0.08, 0.10, 0.06, 0.04),
            {"DISCOUNT_10": PRICE_MATTERS},
            price_sensitive=(0.25, 0.05, 0.0, 0.0),
            churn_price=(0.15, 0.05, 0.0, 0.0),
            churn_service=(0.0, 0.0, 0.2, 0.0),
            alerts=(0.0, 0.0, 0.12, -0.01),
            tier_high=(-0.03, 0.0, 0.1, 0.0),
        ),
        _scenario(
            "cross_sell",
            ("BUNDLE_OFFER", "DISCOUNT_10", "PREMIUM_SUPPORT", "NO_ACTION"),
            (0.10, 0.08, 0.03, 0.02),
            tier_mid=(0.1, 0.0, 0.08, 0.0),
            tier_high=(0.05, -0.03, 0.35, 0.01),
            price_sensitive=(0.0, 0.25, -0.02, 0.0),
        ),
        _scenario(
            "recovery",
            ("PERSONAL_CALL", "APOLOGY_CREDIT", "DISCOUNT_10", "NO_ACTION"),
            (0.08, 0.10, 0.07, 0.03),
            {"PERSONAL_CALL": WORTH_A_CALL, "DISCOUNT_10": PRICE_MATTERS},
            alerts=(0.15, 0.06, 0.0, -0.01),
            churn_service=(0.1, 0.1, 0.0, 0.0),
            price_sensitive=(0.0, 0.05, 0.25, 0.0),
            tier_high=(0.12, 0.0, -0.03, 0.0),
        ),
        _scenario(
            "heterogeneous",
            ("DISCOUNT_10", "PREMIUM_SUPPORT", "PERSONAL_CALL", "FREE_SHIPPING", "NO_ACTION"),
            (0.05, 0.04, 0.04, 0.10, 0.03),
            price_sensitive=(0.40, 0.0, 0.0, 0.05, 0.0),
            tier_mid=(0.0, 0.12, 0.0, 0.03, 0.0),
            tier_high=(-0.03, 0.45, 0.05, 0.0, 0.0),
            alerts=(0.0, 0.0, 0.25, 0.0, 0.0),
            churn_price=(0.1, 0.0, 0.0, 0.0, 0.0),
            churn_service=(0.0, 0.0, 0.1, 0.0, 0.0),
        ),
        _scenario(
            "deep_discount_trap",
            ("DISCOUNT_10", "DISCOUNT_30", "FREE_SHIPPING", "NO_ACTION"),
            (0.15, 0.30, 0.12, 0.05),
            price_sensitive=(0.10, 0.25, 0.05, 0.0),
            tier_high=(0.0, 0.05, 0.05, 0.02),
        ),
    )
}


def scenario(name: str) -> Scenario:
    """The named scenario; raises ``InvalidPolicyConfig`` for an unknown name."""
    if name not in SCENARIOS:
        raise InvalidPolicyConfig("scenario", f"`scenario` must be one of {sorted(SCENARIOS)}, got {name!r}")
    return SCENARIOS[name]
