"""Which levers each customer may get: lever eligibility rules and the decision point's tier caps.

A ``LeverGuard`` is compiled once per decision point configuration and lever catalogue state
(``guard_for`` caches it) and then applied to a chunk of customers in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from engine import LeverCost
from services.offers import guardrails
from services.offers.eligibility import EligibilityRule, Needs, compile_rule
from services.offers.values import DecisionPoint, ExcludedLever, Lever

_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class Screen:
    """Per customer and lever: may it be chosen; per customer: the levers excluded and why."""

    allowed: dict[str, np.ndarray]
    excluded: list[tuple[ExcludedLever, ...]]


@dataclass(frozen=True, slots=True)
class LeverGuard:
    rules: dict[str, EligibilityRule]
    caps: dict[str, float]
    discounts: dict[str, float]
    costs: dict[str, LeverCost]
    control_lever: str | None
    needs: Needs

    def screen(
        self, levers: Sequence[str], facts: Sequence[Any], contexts: Sequence[Mapping[str, Any]], now: datetime
    ) -> Screen:
        """Apply rules and tier caps to ``levers`` for each customer."""
        n = len(facts)
        allowed: dict[str, np.ndarray] = {}
        reasons: list[list[ExcludedLever]] = [[] for _ in range(n)]
        tiers = [f.value_tier or "BRONZE" for f in facts] if self.caps else []
        for lever in levers:
            ok = np.ones(n, dtype=bool)
            rule = self.rules.get(lever)
            if rule is not None:
                text = f"eligibility {rule.text}"
                for i, (fact, context) in enumerate(zip(facts, contexts)):
                    if not rule.allows(fact, context, now):
                        ok[i] = False
                        reasons[i].append(ExcludedLever(lever, text))
            discount = self.discounts.get(lever, 0.0)
            if self.caps and discount > 0:
                for i, tier in enumerate(tiers):
                    cap = self.caps.get(tier)
                    if cap is not None and discount > cap and ok[i]:
                        ok[i] = False
                        reasons[i].append(
                            ExcludedLever(lever, f"maxDiscountPercent {tier} {cap:g}% < {discount:g}%")
                        )
            allowed[lever] = ok
        return Screen(allowed, [tuple(r) for r in reasons])


def lever_cost(lever: Lever) -> LeverCost:
    """The arbitration cost model of a lever: contact cost always, unit cost and the discount and
    cost shares of the order value when accepted, and its business weight."""
    share = min(1.0, (lever.discount_percent + lever.cost_percent_of_value) / 100.0)
    return LeverCost(lever.contact_cost, lever.unit_cost, share, lever.weight)


def build(point: DecisionPoint, levers: Mapping[str, Lever]) -> LeverGuard:
    rules = {
        key: compile_rule(levers[key].eligibility, f"levers.{key}.eligibility")
        for key in point.levers
        if key in levers and levers[key].eligibility is not None
    }
    needs = Needs()
    for rule in rules.values():
        needs = needs | rule.needs
    return LeverGuard(
        rules=rules,
        caps=point.guardrails.tier_caps,
        discounts={key: lever.discount_percent for key, lever in levers.items()},
        costs={key: lever_cost(lever) for key, lever in levers.items()},
        control_lever=guardrails.control_lever(levers, point.levers),
        needs=needs,
    )


_cache: dict[tuple[Any, ...], LeverGuard] = {}


def guard_for(point: DecisionPoint, levers: Mapping[str, Lever]) -> LeverGuard:
    """The compiled guard of this configuration (rules are parsed once, not per decision)."""
    key = (point.id, point.version, point.updated_at, tuple(sorted((k, v.updated_at) for k, v in levers.items())))
    guard = _cache.get(key)
    if guard is None:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        guard = _cache[key] = build(point, levers)
    return guard
