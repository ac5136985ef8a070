"""Turns the per-lever sums of the decision log into a leaderboard: rates, means, intervals,
uplift against the NO_ACTION control and the probability of being best."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.reports import intervals
from services.reports.ranking import probability_best
from services.offers.values import Lever
from services.reports.values import LeverPerformance, Uplift

CONTROL_KIND = "NO_ACTION"


@dataclass(frozen=True, slots=True)
class LeverSums:
    """One lever's sums over its resolved decisions (see db.repositories.lever_reports)."""

    lever: str
    kind: str | None
    decisions: int = 0
    activated: int = 0
    outcomes: int = 0
    accepted: int = 0
    revenue: float = 0.0
    revenue_sq: float = 0.0
    cost: float = 0.0
    cost_sq: float = 0.0
    net: float = 0.0
    net_sq: float = 0.0

    @classmethod
    def from_row(cls, row: Any, lever: Lever | None) -> LeverSums:
        """Completes the database's sums with the cost and net-value sums.

        With c the contact cost, u the unit cost and s the discount plus cost share of revenue,
        a resolved decision with acceptance a (0/1) and earned revenue e (0 unless accepted) costs
        c + u·a + s·e. Since a² = a and a·e = e, over n outcomes with A accepted, E = Σe, Q = Σe²:
        Σcost = cn + uA + sE;  Σcost² = c²n + u²A + s²Q + 2cuA + 2(c + u)sE;
        Σe·cost = (c + u)E + sQ;  Σnet = E − Σcost;  Σnet² = Q − 2Σe·cost + Σcost².
        """
        n, accepted = int(row.outcomes), int(row.accepted)
        total, squares = float(row.revenue), float(row.revenue_sq)
        c = lever.contact_cost if lever else 0.0
        u = lever.unit_cost if lever else 0.0
        share = (lever.discount_percent + lever.cost_percent_of_value) / 100.0 if lever else 0.0
        cost = c * n + u * accepted + share * total
        cost_sq = c * c * n + u * u * accepted + share * share * squares + 2 * c * u * accepted + 2 * (c + u) * share * total
        cross = (c + u) * total + share * squares
        return cls(
            row.lever_key, lever.kind if lever else None, int(row.decisions), int(row.activated), n, accepted,
            total, squares, cost, cost_sq, total - cost, squares - 2 * cross + cost_sq,
        )


def _control(sums: Sequence[LeverSums]) -> LeverSums | None:
    """Every NO_ACTION lever pooled into one control group; None when it has no outcomes."""
    members = [s for s in sums if s.kind == CONTROL_KIND]
    pooled = LeverSums(
        "control", CONTROL_KIND,
        outcomes=sum(s.outcomes for s in members),
        accepted=sum(s.accepted for s in members),
        revenue=sum(s.revenue for s in members),
        revenue_sq=sum(s.revenue_sq for s in members),
    )
    return pooled if pooled.outcomes else None


def _uplift(lever: LeverSums, control: LeverSums | None) -> Uplift | None:
    if control is None or lever.kind == CONTROL_KIND or not lever.outcomes:
        return None
    return Uplift(
        accept_rate=intervals.difference_of_proportions(lever.accepted, lever.outcomes, control.accepted, control.outcomes),
        revenue_per_decision=intervals.difference_of_means(
            lever.revenue, lever.revenue_sq, lever.outcomes, control.revenue, control.revenue_sq, control.outcomes
        ),
        control_outcomes=control.outcomes,
    )


def leaderboard(sums: Sequence[LeverSums], *, seed: int = 0) -> list[LeverPerformance]:
    """One entry per lever, in the order given. Rates and means are per outcome (an activated
    decision whose result is known); probabilityBest is shared among the levers with outcomes."""
    observed = [s for s in sums if s.outcomes]
    shares = dict(
        zip(
            (s.lever for s in observed),
            probability_best([s.accepted for s in observed], [s.outcomes for s in observed], seed=seed),
            strict=True,
        )
    )
    control = _control(sums)
    return [
        LeverPerformance(
            lever=s.lever,
            kind=s.kind,
            decisions=s.decisions,
            activated=s.activated,
            outcomes=s.outcomes,
            accepted=s.accepted,
            accept_rate=intervals.wilson(s.accepted, s.outcomes),
            revenue=s.revenue,
            revenue_per_decision=intervals.mean(s.revenue, s.revenue_sq, s.outcomes),
            cost=s.cost,
            cost_per_decision=intervals.mean(s.cost, s.cost_sq, s.outcomes),
            net_value=s.net,
            net_value_per_decision=intervals.mean(s.net, s.net_sq, s.outcomes),
            uplift=_uplift(s, control),
            probability_best=shares.get(s.lever),
        )
        for s in sums
    ]
