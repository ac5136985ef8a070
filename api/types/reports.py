"""Analysts' report types: the lever leaderboard with intervals, its breakdowns, the timeline."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from api.context import Info
from api.loaders import now_or_later
from api.types.lifecycle import AlertType
from api.types.offers import Lever, LeverKind
from services.reports import values

INTERVAL_METHODS = (
    "Rates and means count activated decisions with a known outcome (reported, late or default): "
    "a decision never activated, or still inside its reward window, is not in them. "
    "95% intervals: Wilson score for the accept rate; normal approximation (mean ± 1.96·s/√n, "
    "s² from the sums of squares) for per-decision revenue, cost and net value."
)


@strawberry.enum(description="Period of a timeline: a UTC day, or an ISO week starting on Monday (UTC).")
class ReportInterval(Enum):
    DAY = "DAY"
    WEEK = "WEEK"


@strawberry.enum(
    description="How a leaderboard is broken down. SEGMENT, STAGE, VALUE_TIER and CHURN_REASON use the "
    "customer's CURRENT state, not the state at decision time; a customer in several segments counts in each, "
    "and customers in no segment (or without a churn reason) form the group NONE. CAMPAIGN groups by the "
    "decision's campaign id (NONE: no campaign)."
)
class ReportDimension(Enum):
    SEGMENT = "SEGMENT"
    STAGE = "STAGE"
    VALUE_TIER = "VALUE_TIER"
    CHURN_REASON = "CHURN_REASON"
    CAMPAIGN = "CAMPAIGN"


@strawberry.type(
    description="A lever minus the pooled control group (decisions whose lever kind is NO_ACTION), with 95% "
    "intervals by the normal approximation of a difference between independent groups: "
    "(a - b) ± 1.96·√(se_a² + se_b²), p(1-p)/n for proportions and s²/n for means."
)
class Uplift:
    accept_rate: float | None
    accept_rate_low: float | None
    accept_rate_high: float | None
    revenue_per_decision: float | None
    revenue_per_decision_low: float | None
    revenue_per_decision_high: float | None
    control_outcomes: int = strawberry.field(description="Outcomes in the control group compared against.")

    @classmethod
    def from_domain(cls, uplift: values.Uplift) -> Uplift:
        rate, revenue = uplift.accept_rate, uplift.revenue_per_decision
        return cls(
            accept_rate=rate.value, accept_rate_low=rate.low, accept_rate_high=rate.high,
            revenue_per_decision=revenue.value, revenue_per_decision_low=revenue.low,
            revenue_per_decision_high=revenue.high, control_outcomes=uplift.control_outcomes,
        )


@strawberry.type(description="One lever's row of a leaderboard. " + INTERVAL_METHODS)
class LeverPerformance:
    lever_key: str
    kind: LeverKind | None = strawberry.field(description="The lever's kind now; null when the lever no longer exists.")
    is_control: bool = strawberry.field(description="Kind NO_ACTION: part of the control group.")
    decisions: int = strawberry.field(description="Decisions that served this lever, activated or not.")
    activated: int
    outcomes: int = strawberry.field(description="Activated decisions with an outcome: the denominator of every rate and mean.")
    accepted: int
    accept_rate: float | None
    accept_rate_low: float | None = strawberry.field(description="Wilson score 95% interval.")
    accept_rate_high: float | None
    revenue: float = strawberry.field(description="Revenue of accepted offers (observed total).")
    revenue_per_decision: float | None
    revenue_per_decision_low: float | None
    revenue_per_decision_high: float | None
    cost: float = strawberry.field(
        description="Observed total cost by the lever's current cost model: contact cost for every outcome; "
        "when accepted also unit cost plus (discountPercent + costPercentOfValue)% of the revenue."
    )
    cost_per_decision: float | None
    cost_per_decision_low: float | None
    cost_per_decision_high: float | None
    net_value: float = strawberry.field(description="revenue - cost (observed total).")
    net_value_per_decision: float | None
    net_value_per_decision_low: float | None
    net_value_per_decision_high: float | None
    uplift_vs_control: Uplift | None = strawberry.field(
        description="Null for control levers and when the control group has no outcomes."
    )
    probability_best: float | None = strawberry.field(
        description="Posterior probability of the highest accept rate among the levers with outcomes: Beta(1 + accepted, "
        "1 + outcomes - accepted) per lever, 10,000 seeded Monte Carlo draws. Null without outcomes."
    )

    @classmethod
    def from_domain(cls, row: values.LeverPerformance) -> LeverPerformance:
        rate, revenue, cost, net = row.accept_rate, row.revenue_per_decision, row.cost_per_decision, row.net_value_per_decision
        return cls(
            lever_key=row.lever, kind=LeverKind(row.kind) if row.kind else None, is_control=row.is_control,
            decisions=row.decisions, activated=row.activated, outcomes=row.outcomes, accepted=row.accepted,
            accept_rate=rate.value, accept_rate_low=rate.low, accept_rate_high=rate.high,
            revenue=row.revenue, revenue_per_decision=revenue.value, revenue_per_decision_low=revenue.low,
            revenue_per_decision_high=revenue.high,
            cost=row.cost, cost_per_decision=cost.value, cost_per_decision_low=cost.low, cost_per_decision_high=cost.high,
            net_value=row.net_value, net_value_per_decision=net.value, net_value_per_decision_low=net.low,
            net_value_per_decision_high=net.high,
            uplift_vs_control=Uplift.from_domain(row.uplift) if row.uplift else None,
            probability_best=row.probability_best,
        )

    @strawberry.field(description="Null when the lever no longer exists.")
    def lever(self, info: Info) -> Lever | None:
        return now_or_later(info.context.loaders.lever, self.lever_key, lambda v: Lever.from_domain(v) if v else None)


@strawberry.type
class LeverGroupPerformance:
    group: str = strawberry.field(description="The group's key (segment key, stage, tier, churn reason code, campaign id) or NONE.")
    levers: list[LeverPerformance]

    @classmethod
    def from_domain(cls, group: values.GroupPerformance) -> LeverGroupPerformance:
        return cls(group=group.group, levers=[LeverPerformance.from_domain(row) for row in group.levers])


@strawberry.type
class LeverTimelinePoint:
    period_start: date = strawberry.field(description="First day of the period (UTC).")
    lever_key: str
    decisions: int
    activated: int
    allocation_share: float | None = strawberry.field(
        description="This lever's activated decisions over all activated decisions of the period."
    )
    outcomes: int
    accepted: int
    accept_rate: float | None
    revenue: float

    @classmethod
    def from_domain(cls, point: values.TimelinePoint) -> LeverTimelinePoint:
        return cls(
            period_start=point.period, lever_key=point.lever, decisions=point.decisions, activated=point.activated,
            allocation_share=point.allocation_share, outcomes=point.outcomes, accepted=point.accepted,
            accept_rate=point.accept_rate, revenue=point.revenue,
        )


@strawberry.type
class AlertsRaised:
    period_start: date
    type: AlertType
    raised: int

    @classmethod
    def from_domain(cls, count: values.AlertCount) -> AlertsRaised:
        return cls(period_start=count.period, type=AlertType(count.type), raised=count.raised)
