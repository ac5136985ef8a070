"""Offer inputs and their conversion into service drafts."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from api.types.offer_guardrails import Objective, TierCapInput
from api.types.offers import LeverKind, PolicyKind, RewardKind
from services.errors import InvalidInput
from services.offers import values


@strawberry.input(description="A lever, matched by key; every field is replaced.")
class LeverInput:
    key: str
    name: str
    kind: LeverKind = LeverKind.CUSTOM
    discount_percent: float = strawberry.field(default=0.0, description="0-100, given away on acceptance.")
    unit_cost: float = strawberry.field(default=0.0, description="Cost of an accepted offer.")
    cost_percent_of_value: float = strawberry.field(default=0.0, description="0-100 of revenue, cost of an accepted offer.")
    contact_cost: float = strawberry.field(default=0.0, description="Cost of making the offer, accepted or not.")
    active: bool = True
    eligibility: JSON | None = strawberry.field(
        default=None,
        description="Who may get this lever, in the segment rule language plus churnReason, openAlerts and context.<name>: {all|any: [...]}, {not: ...} or {field, op, value}.",
    )
    weight: float = strawberry.field(default=1.0, description="> 0; multiplies the lever's expected net value under NET_VALUE arbitration.")

    def to_draft(self) -> values.LeverDraft:
        return values.LeverDraft(
            key=self.key, name=self.name, kind=self.kind.value, discount_percent=self.discount_percent,
            unit_cost=self.unit_cost, cost_percent_of_value=self.cost_percent_of_value,
            contact_cost=self.contact_cost, active=self.active, eligibility=self.eligibility, weight=self.weight,
        )


@strawberry.input
class PolicyInput:
    kind: PolicyKind = PolicyKind.LIN_TS
    alpha: float = 1.0
    epsilon: float = 0.1
    tau: float = 1.0
    l2_lambda: float = 1.0
    seed: int = 0
    propensity_samples: int = 100
    success_threshold: float | None = None

    def to_domain(self) -> values.Policy:
        return values.Policy(
            kind=self.kind.value, alpha=self.alpha, epsilon=self.epsilon, tau=self.tau, l2_lambda=self.l2_lambda,
            seed=self.seed, propensity_samples=self.propensity_samples, success_threshold=self.success_threshold,
        )


@strawberry.input(description="A challenger arm: a named policy serving a share of customers, or a shadow that never serves.")
class PolicyArmInput:
    name: str
    policy: PolicyInput | None = None
    traffic_percent: float = 0.0
    shadow: bool = False

    def to_domain(self) -> values.PolicyArm:
        return values.PolicyArm(self.name, (self.policy or PolicyInput()).to_domain(), self.traffic_percent, self.shadow)


@strawberry.input(description="Create or reconfigure a decision point.")
class DecisionPointInput:
    key: str
    levers: list[str]
    name: str | None = None
    policy: PolicyInput | None = None
    features: list[str] = strawberry.field(
        default_factory=list,
        description="stage, acquisitionChannel, tenureDays, valueTier, rfm.recency|frequency|monetary, daysSinceLastPurchase, openAlerts, churnReason, attributes.<name>, context.<name>.",
    )
    reward: RewardKind = RewardKind.ACCEPTED
    reward_window_hours: float = 168.0
    default_reward: float = 0.0
    context_examples: list[JSON] = strawberry.field(
        default_factory=list, description="Example request contexts to fit context.<name> features on."
    )
    refit: bool = strawberry.field(default=False, description="Refit the feature encoder now (starts a new model version).")
    objective: Objective = strawberry.field(default=Objective.REWARD, description="NET_VALUE: learn acceptance, rank levers by expected net value.")
    value_attribute: str | None = strawberry.field(
        default=None, description="attributes.<name> or context.<name> holding the customer's value; default: the average order value."
    )
    max_discount_percent: list[TierCapInput] = strawberry.field(default_factory=list, description="Deepest discount per value tier.")
    control_share: float = strawberry.field(default=0.0, description="Share of customers (0 to below 1) held out as a control group; needs a NO_ACTION lever.")
    control_period_days: int = strawberry.field(default=30, description="Control membership is redrawn every this many days.")
    arms: list[PolicyArmInput] = strawberry.field(
        default_factory=list, description="Challengers beside the champion (whose policy is `policy`); promotePolicy swaps them."
    )

    def to_draft(self) -> values.DecisionPointDraft:
        examples = []
        for index, example in enumerate(self.context_examples):
            if not isinstance(example, dict):
                raise InvalidInput(f"contextExamples.{index}", "must be an object")
            examples.append(example)
        return values.DecisionPointDraft(
            key=self.key, levers=tuple(self.levers), name=self.name,
            policy=(self.policy or PolicyInput()).to_domain(), features=tuple(self.features),
            reward=self.reward.value, reward_window_hours=self.reward_window_hours,
            default_reward=self.default_reward, context_examples=tuple(examples), refit=self.refit,
            guardrails=values.Guardrails(
                max_discount_percent=tuple((cap.tier.value, cap.max_discount_percent) for cap in self.max_discount_percent),
                objective=self.objective.value, value_attribute=self.value_attribute,
                control_share=self.control_share, control_period_days=self.control_period_days,
                challengers=tuple(arm.to_domain() for arm in self.arms),
            ),
        )


def _context(value: object) -> dict[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput("context", "must be an object of scalar values")
    return value


@strawberry.input(description="Name the customer by customerId or externalId.")
class DecideInput:
    decision_point: str
    customer_id: strawberry.ID | None = None
    external_id: str | None = None
    context: JSON | None = None
    candidates: list[str] | None = strawberry.field(default=None, description="Restrict the choice to these levers.")
    defer_activation: bool = strawberry.field(default=False, description="Not shown yet: call activateDecision when it is.")
    request_id: str | None = strawberry.field(default=None, description="Replaying it returns the same decision.")

    def to_request(self) -> values.DecideRequest:
        customer_id = None
        if self.customer_id is not None:
            try:
                customer_id = int(self.customer_id)
            except ValueError:
                raise InvalidInput("customerId", f"not a customer id: {self.customer_id!r}") from None
        return values.DecideRequest(
            decision_point=self.decision_point, external_id=self.external_id, request_id=self.request_id,
            context=_context(self.context), candidates=tuple(self.candidates) if self.candidates is not None else None,
            activate=not self.defer_activation, customer_id=customer_id,
        )


@strawberry.input(description="Name the customers by externalIds or by segmentKey (first `limit` members by id).")
class DecideBatchInput:
    decision_point: str
    external_ids: list[str] | None = None
    segment_key: str | None = None
    limit: int | None = strawberry.field(default=None, description="With segmentKey; at most 10,000 (the default).")
    context: JSON | None = None
    candidates: list[str] | None = None
    defer_activation: bool = False
    request_id: str | None = strawberry.field(default=None, description="Per customer it becomes `<requestId>/<externalId>`.")

    def to_request(self) -> values.BatchRequest:
        if (self.external_ids is None) == (self.segment_key is None):
            raise InvalidInput("externalIds", "give exactly one of externalIds and segmentKey")
        return values.BatchRequest(
            decision_point=self.decision_point, external_ids=tuple(self.external_ids or ()), request_id=self.request_id,
            context=_context(self.context), candidates=tuple(self.candidates) if self.candidates is not None else None,
            activate=not self.defer_activation, segment_key=self.segment_key, limit=self.limit,
        )


@strawberry.input
class OutcomeInput:
    decision_id: strawberry.ID
    accepted: bool
    revenue: float | None = None
    idempotency_key: str | None = None

    def to_report(self) -> values.OutcomeReport:
        try:
            decision_id = int(self.decision_id)
        except ValueError:
            raise InvalidInput("decisionId", f"not a decision id: {self.decision_id!r}") from None
        return values.OutcomeReport(decision_id, self.accepted, self.revenue, self.idempotency_key)
