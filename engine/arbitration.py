"""Value-aware choice: pick the lever with the highest expected *net* value, not acceptance.

For customer value ``v`` and lever acceptance probability ``p``::

    expected_cost = contact_cost + p * (unit_cost + percent_of_value * v)
    net           = weight * (p * v - expected_cost)

Acceptance estimates come from the policy's (possibly sampled) scores and are clipped to [0, 1],
since a linear posterior draw can leave that range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import InvalidPolicyConfig, UnknownLever
from engine.selection import masked_argmax


@dataclass(frozen=True, slots=True)
class LeverCost:
    """What serving a lever costs: per contact, per acceptance, and as a share of the order value."""

    contact_cost: float = 0.0
    unit_cost: float = 0.0
    percent_of_value: float = 0.0
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.contact_cost < 0:
            raise InvalidPolicyConfig("contact_cost", f"`contact_cost` must be >= 0, got {self.contact_cost}")
        if self.unit_cost < 0:
            raise InvalidPolicyConfig("unit_cost", f"`unit_cost` must be >= 0, got {self.unit_cost}")
        if not 0 <= self.percent_of_value <= 1:
            raise InvalidPolicyConfig(
                "percent_of_value", f"`percent_of_value` must be in [0, 1], got {self.percent_of_value}"
            )
        if self.weight <= 0:
            raise InvalidPolicyConfig("weight", f"`weight` must be > 0, got {self.weight}")


@dataclass(frozen=True, slots=True)
class NetValue:
    """The terms of the net-value computation, each broadcast to the acceptance shape."""

    acceptance: np.ndarray
    value: np.ndarray
    expected_cost: np.ndarray
    weight: np.ndarray
    net: np.ndarray


@dataclass(frozen=True, slots=True)
class CostModel:
    """Per-lever costs in a fixed lever order; levers without an entry cost nothing."""

    levers: tuple[str, ...]
    costs: tuple[LeverCost, ...]

    @classmethod
    def for_levers(cls, levers: Sequence[str], costs: Mapping[str, LeverCost]) -> CostModel:
        unknown = set(costs) - set(levers)
        if unknown:
            raise UnknownLever(sorted(unknown)[0])
        return cls(tuple(levers), tuple(costs.get(lever, LeverCost()) for lever in levers))

    def net(self, acceptance: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Just ``net_value(...).net``, with two passes over the (large, resampled) acceptance array:
        ``weight * (p * (v * (1 - share) - unit) - contact)`` is the same expression rearranged."""
        p = np.clip(acceptance, 0.0, 1.0)
        v = np.asarray(values, dtype=np.float64).reshape((-1,) + (1,) * (p.ndim - 1))
        contact = np.array([c.contact_cost for c in self.costs])
        unit = np.array([c.unit_cost for c in self.costs])
        share = np.array([c.percent_of_value for c in self.costs])
        weight = np.array([c.weight for c in self.costs])
        slope = weight * (v * (1.0 - share) - unit)
        p *= slope
        p -= weight * contact
        return p

    def net_value(self, acceptance: np.ndarray, values: np.ndarray) -> NetValue:
        """Net value for acceptance ``(n, ..., k)`` and per-customer values ``(n,)``."""
        p = np.clip(acceptance, 0.0, 1.0)
        v = np.asarray(values, dtype=np.float64).reshape((-1,) + (1,) * (p.ndim - 1))
        contact = np.array([c.contact_cost for c in self.costs])
        unit = np.array([c.unit_cost for c in self.costs])
        share = np.array([c.percent_of_value for c in self.costs])
        weight = np.array([c.weight for c in self.costs])
        expected_cost = contact + p * (unit + share * v)
        net = weight * (p * v - expected_cost)
        shape = net.shape
        return NetValue(
            np.broadcast_to(p, shape),
            np.broadcast_to(v, shape),
            np.broadcast_to(expected_cost, shape),
            np.broadcast_to(weight, shape),
            net,
        )


def arbitrate(
    acceptance: np.ndarray,
    values: np.ndarray,
    cost_model: CostModel,
    mask: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, NetValue]:
    """Best candidate by net value per row (ties broken at random) and the terms behind it."""
    terms = cost_model.net_value(acceptance, values)
    chosen, _ = masked_argmax(terms.net, mask, rng)
    return chosen, terms
