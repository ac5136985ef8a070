"""Types around the bandit (issue 5): eligibility explanations, net-value terms, tier caps, the
control group and policy arms."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.types.lifecycle import ValueTier
from services.offers import values


@strawberry.enum(description="How a decision point ranks levers. REWARD: by the learned reward estimate. NET_VALUE: the bandit learns acceptance and levers are ranked by P(accept) x value - expected cost, times the lever's weight.")
class Objective(Enum):
    REWARD = "REWARD"
    NET_VALUE = "NET_VALUE"


@strawberry.type(description="A lever that could not be chosen for this customer, and the rule that excluded it.")
class ExcludedLever:
    lever: str
    rule: str = strawberry.field(description='"eligibility <rule JSON>" or "maxDiscountPercent <tier> <cap>% < <discount>%".')

    @classmethod
    def from_domain(cls, excluded: values.ExcludedLever) -> ExcludedLever:
        return cls(lever=excluded.lever, rule=excluded.rule)


@strawberry.type(description="The terms of NET_VALUE arbitration for one candidate: netValue = weight x (pAccept x value - cost).")
class NetValueTerms:
    p_accept: float = strawberry.field(description="The bandit's (sampled) acceptance estimate, clipped to [0, 1].")
    value: float = strawberry.field(description="The customer's value: valueAttribute, else the average order value.")
    cost: float = strawberry.field(description="Expected cost: contact cost + pAccept x (unit cost + discount and cost shares of value).")
    weight: float
    net_value: float

    @classmethod
    def from_domain(cls, terms: values.NetValueTerms) -> NetValueTerms:
        return cls(p_accept=terms.p_accept, value=terms.value, cost=terms.cost, weight=terms.weight, net_value=terms.net_value)


@strawberry.type(description="What the shadow arm would have served for this decision (never served).")
class ShadowScore:
    arm: str
    lever_key: str
    expected_reward: float

    @classmethod
    def from_domain(cls, shadow: values.ShadowScore) -> ShadowScore:
        return cls(arm=shadow.arm, lever_key=shadow.lever, expected_reward=shadow.expected_reward)


@strawberry.type
class TierCap:
    tier: ValueTier
    max_discount_percent: float


@strawberry.input(description="Discount levers deeper than this are not offered to customers of the tier.")
class TierCapInput:
    tier: ValueTier
    max_discount_percent: float


@strawberry.type(description="How one policy arm is doing; shadow arms report agreement with what was served.")
class PolicyArmReport:
    name: str
    champion: bool
    shadow: bool
    traffic_percent: float
    decisions: int = strawberry.field(description="Decisions it served (control-group decisions included).")
    outcomes: int
    accepted: int
    accept_rate: float | None
    mean_reward: float | None = strawberry.field(description="Realised mean reward of its decisions with outcomes.")
    scored: int = strawberry.field(description="Shadow arms: decisions it scored.")
    agreement_rate: float | None = strawberry.field(description="Shadow arms: share of scored decisions where it picked the served lever.")
    expected_reward: float | None = strawberry.field(description="Mean expected reward of its own choices (a shadow's estimate of what it would have earned).")
    served_expected_reward: float | None = strawberry.field(description="Shadow arms: mean expected reward the serving arms gave the same decisions.")

    @classmethod
    def from_domain(cls, report: values.PolicyArmReport) -> PolicyArmReport:
        return cls(
            name=report.name, champion=report.champion, shadow=report.shadow, traffic_percent=report.traffic_percent,
            decisions=report.decisions, outcomes=report.outcomes, accepted=report.accepted,
            accept_rate=report.accepted / report.outcomes if report.outcomes else None,
            mean_reward=report.reward / report.outcomes if report.outcomes else None,
            scored=report.scored, agreement_rate=report.agreements / report.scored if report.scored else None,
            expected_reward=report.expected_reward, served_expected_reward=report.served_expected_reward,
        )
