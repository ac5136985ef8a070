"""Next-best-offer types: levers, decision points, decisions, outcomes, statistics and their errors."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.loaders import now_or_later
from api.types.budgets import BudgetExhausted, ContactPolicyBlocked
from api.types.customer import Customer
from api.types.lifecycle import ValueTier
from api.types.offer_guardrails import ExcludedLever, NetValueTerms, Objective, ShadowScore, TierCap
from api.types.pagination import Edge, PageInfo
from api.types.results import CustomerNotFound, InvalidInput, ItemError, SegmentNotFound
from services import errors as service_errors
from services.offers import errors, refusals, values


@strawberry.enum(description="What kind of offer or action a lever is.")
class LeverKind(Enum):
    DISCOUNT = "DISCOUNT"
    FREE_SHIPPING = "FREE_SHIPPING"
    LOYALTY_POINTS = "LOYALTY_POINTS"
    PREMIUM_SUPPORT = "PREMIUM_SUPPORT"
    BUNDLE = "BUNDLE"
    PERSONAL_CALL = "PERSONAL_CALL"
    NO_ACTION = "NO_ACTION"
    CUSTOM = "CUSTOM"


@strawberry.enum(description="How a decision point explores: contextual (LIN_TS, LIN_UCB) or not.")
class PolicyKind(Enum):
    LIN_TS = "LIN_TS"
    LIN_UCB = "LIN_UCB"
    EPSILON_GREEDY = "EPSILON_GREEDY"
    THOMPSON = "THOMPSON"
    SOFTMAX = "SOFTMAX"
    RANDOM = "RANDOM"


@strawberry.enum(description="What the engine learns from an outcome. ACCEPTED: 1/0. REVENUE: revenue if accepted. NET_VALUE: revenue minus the lever's cost.")
class RewardKind(Enum):
    ACCEPTED = "ACCEPTED"
    REVENUE = "REVENUE"
    NET_VALUE = "NET_VALUE"


@strawberry.enum(description="REPORTED by recordOutcome, or DEFAULT when the reward window ended without one.")
class OutcomeSource(Enum):
    REPORTED = "REPORTED"
    DEFAULT = "DEFAULT"


@strawberry.type(description="An offer or action the engine can choose.")
class Lever:
    key: str
    name: str
    kind: LeverKind
    discount_percent: float
    unit_cost: float
    cost_percent_of_value: float
    contact_cost: float
    active: bool
    created_at: datetime | None
    updated_at: datetime | None
    eligibility: JSON | None = strawberry.field(description="Rule tree (segment rule language): who may get this lever; null: everyone.")
    weight: float = strawberry.field(description="Business weight multiplying its expected net value under NET_VALUE arbitration.")

    @classmethod
    def from_domain(cls, lever: values.Lever) -> Lever:
        return cls(
            key=lever.key, name=lever.name, kind=LeverKind(lever.kind), discount_percent=lever.discount_percent,
            unit_cost=lever.unit_cost, cost_percent_of_value=lever.cost_percent_of_value,
            contact_cost=lever.contact_cost, active=lever.active, created_at=lever.created_at,
            updated_at=lever.updated_at, eligibility=lever.eligibility, weight=lever.weight,
        )


@strawberry.type
class Policy:
    kind: PolicyKind
    alpha: float
    epsilon: float
    tau: float
    l2_lambda: float
    seed: int
    propensity_samples: int
    success_threshold: float | None

    @classmethod
    def from_domain(cls, policy: values.Policy) -> Policy:
        return cls(
            kind=PolicyKind(policy.kind), alpha=policy.alpha, epsilon=policy.epsilon, tau=policy.tau,
            l2_lambda=policy.l2_lambda, seed=policy.seed, propensity_samples=policy.propensity_samples,
            success_threshold=policy.success_threshold,
        )


@strawberry.type(description="A policy configuration of a decision point with its own model.")
class PolicyArm:
    name: str
    champion: bool
    policy: Policy
    traffic_percent: float = strawberry.field(description="Share of customers it serves (stable per customer); 0 for a shadow.")
    shadow: bool = strawberry.field(description="Scores every decision, never serves.")


@strawberry.type(description="Where decisions are made (e.g. RETENTION): levers, policy, features and reward.")
class DecisionPoint:
    key: str
    name: str
    levers: list[str]
    policy: Policy
    features: list[str]
    reward: RewardKind
    reward_window_hours: float
    default_reward: float
    version: int = strawberry.field(description="Bumped when features, policy, reward, objective or an arm's policy change: the models restart.")
    feature_columns: list[str] = strawberry.field(description="The encoded vector's columns, in order.")
    created_at: datetime
    updated_at: datetime
    objective: Objective
    value_attribute: str | None
    max_discount_percent: list[TierCap]
    control_share: float = strawberry.field(description="Share of customers in the control group (served the NO_ACTION lever).")
    control_period_days: int
    arms: list[PolicyArm] = strawberry.field(description="The champion (its policy is `policy`) and the challengers.")

    @classmethod
    def from_domain(cls, point: values.DecisionPoint) -> DecisionPoint:
        from engine import FeatureEncoder

        rails = point.guardrails
        arms = [PolicyArm(name=rails.champion, champion=True, policy=Policy.from_domain(point.policy), traffic_percent=rails.champion_traffic, shadow=False)]
        arms += [
            PolicyArm(name=a.name, champion=False, policy=Policy.from_domain(a.policy), traffic_percent=a.traffic_percent, shadow=a.shadow)
            for a in rails.challengers
        ]
        return cls(
            objective=Objective(rails.objective), value_attribute=rails.value_attribute,
            max_discount_percent=[TierCap(tier=ValueTier(t), max_discount_percent=c) for t, c in rails.max_discount_percent],
            control_share=rails.control_share, control_period_days=rails.control_period_days, arms=arms,
            key=point.key, name=point.name, levers=list(point.levers), policy=Policy.from_domain(point.policy),
            features=list(point.features), reward=RewardKind(point.reward),
            reward_window_hours=point.reward_window_hours, default_reward=point.default_reward,
            version=point.version, feature_columns=list(FeatureEncoder.from_dict(point.encoder).columns),
            created_at=point.created_at, updated_at=point.updated_at,
        )


@strawberry.type
class CandidateEstimate:
    lever: str
    estimated_reward: float = strawberry.field(description="The model's mean reward estimate for this customer.")
    score: float = strawberry.field(description="The score the choice was made on (a posterior draw for sampled policies; its net value under NET_VALUE).")
    net_value: NetValueTerms | None = strawberry.field(default=None, description="The arbitration terms, under the NET_VALUE objective.")


@strawberry.type
class FeatureValue:
    name: str
    value: JSON | None


@strawberry.type(description="Why this lever: every candidate's estimate and the feature values used.")
class Explanation:
    candidates: list[CandidateEstimate]
    features: list[FeatureValue]
    excluded: list[ExcludedLever] = strawberry.field(description="Levers an eligibility rule or a tier cap kept from this customer.")


@strawberry.type
class Outcome:
    id: strawberry.ID
    decision_id: strawberry.ID
    accepted: bool
    revenue: float | None
    reward: float
    late: bool = strawberry.field(description="Arrived after the reward window: stored, never learned.")
    source: OutcomeSource
    idempotency_key: str | None
    created_at: datetime

    @classmethod
    def from_domain(cls, outcome: values.Outcome) -> Outcome:
        return cls(
            id=strawberry.ID(str(outcome.id)), decision_id=strawberry.ID(str(outcome.decision_id)),
            accepted=outcome.accepted, revenue=outcome.revenue, reward=outcome.reward, late=outcome.late,
            source=OutcomeSource(outcome.source), idempotency_key=outcome.idempotency_key,
            created_at=outcome.created_at,
        )


@strawberry.type(description="One logged decision: the lever served, with its propensity and explanation.")
class Decision:
    _decision: strawberry.Private[values.Decision]
    id: strawberry.ID
    decision_point: str
    request_id: str | None
    lever_key: str
    propensity: float | None = strawberry.field(description="Probability the policy had of choosing this lever, in (0, 1]. Null only for an imported decision whose file gave none.")
    expected_reward: float
    candidates: list[str]
    policy_version: int = strawberry.field(description="The decision point's configuration version (policy, features, reward).")
    model_version: int = strawberry.field(description="Outcomes the serving model had learned.")
    created_at: datetime
    activated_at: datetime | None
    window_ends_at: datetime | None
    imported: bool = strawberry.field(description="True for a decision loaded by importDecisionLog rather than made by the engine.")
    holdout: bool = strawberry.field(description="A control-group member: served the NO_ACTION lever, logged with propensity = controlShare.")
    policy_arm: str = strawberry.field(description="The policy arm that made the decision and learns from it.")
    shadow: ShadowScore | None = strawberry.field(description="What the shadow arm would have served.")

    @classmethod
    def from_domain(cls, decision: values.Decision) -> Decision:
        return cls(
            _decision=decision, id=strawberry.ID(str(decision.id)), decision_point=decision.decision_point,
            request_id=decision.request_id, lever_key=decision.lever, propensity=decision.propensity,
            expected_reward=decision.expected_reward, candidates=decision.candidates,  # type: ignore[arg-type]
            policy_version=decision.config_version, model_version=decision.model_version,
            created_at=decision.created_at, activated_at=decision.activated_at,
            window_ends_at=decision.window_ends_at, imported=decision.imported,
            holdout=decision.holdout, policy_arm=decision.policy_arm,
            shadow=ShadowScore.from_domain(decision.shadow) if decision.shadow else None,
        )

    @strawberry.field
    def explanation(self) -> Explanation:
        d = self._decision
        return Explanation(
            candidates=[
                CandidateEstimate(
                    lever=e.lever, estimated_reward=e.estimated_reward, score=e.score,
                    net_value=NetValueTerms.from_domain(e.net_value) if e.net_value else None,
                )
                for e in d.estimates
            ],
            features=[FeatureValue(name=name, value=value) for name, value in d.inputs.items()],
            excluded=[ExcludedLever.from_domain(e) for e in d.excluded],
        )

    @strawberry.field(description="The lever served.")
    def lever(self, info: Info) -> Lever:
        # A decision just made carries the lever it was made with; else the registry's copy of
        # the catalogue while it is fresh; else a loader round.
        if self._decision.served is not None and self._decision.served.key == self._decision.lever:
            return Lever.from_domain(self._decision.served)
        cached = info.context.services.offers.registry.cached_levers([self._decision.lever])
        if cached is not None:
            return Lever.from_domain(cached[self._decision.lever])
        return now_or_later(info.context.loaders.lever, self._decision.lever, Lever.from_domain)

    @strawberry.field
    def customer(self, info: Info) -> Customer | None:
        return now_or_later(
            info.context.loaders.customer, self._decision.customer_id, lambda c: Customer.from_domain(c) if c else None
        )

    @strawberry.field
    def outcome(self, info: Info) -> Outcome | None:
        return now_or_later(
            info.context.loaders.decision_outcome, self._decision.id, lambda o: Outcome.from_domain(o) if o else None
        )


@strawberry.type
class DecisionConnection:
    edges: list[Edge[Decision]]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(cls, decisions: tuple[values.Decision, ...]) -> DecisionConnection:
        edges = [Edge(node=Decision.from_domain(d), _key=(d.id, d.id)) for d in decisions]
        end = edges[-1].cursor() if edges else None
        return cls(edges=edges, page_info=PageInfo(has_next_page=False, end_cursor=end), total_count=len(edges))


@strawberry.type(description="Decisions in input order; each rejected externalId is in `errors` by index.")
class DecisionBatch:
    decisions: DecisionConnection
    errors: list[ItemError]


@strawberry.type(description="Outcomes stored (or the stored ones, for retries); rejected items by index.")
class RecordOutcomesPayload:
    outcomes: list[Outcome]
    errors: list[ItemError]


@strawberry.type
class LeverStats:
    lever_key: str
    decisions: int = strawberry.field(description="Decisions that served this lever, activated or not.")
    activated: int
    outcomes: int = strawberry.field(description="Of activated decisions (reported, late or default).")
    accepted: int
    accept_rate: float | None
    revenue: float
    reward: float
    mean_reward: float | None
    late_outcomes: int
    default_outcomes: int

    @classmethod
    def from_domain(cls, stats: values.LeverStats) -> LeverStats:
        return cls(
            lever_key=stats.lever, decisions=stats.decisions, activated=stats.activated, outcomes=stats.outcomes,
            accepted=stats.accepted, accept_rate=stats.acceptance_rate, revenue=stats.revenue, reward=stats.reward,
            mean_reward=stats.mean_reward, late_outcomes=stats.late, default_outcomes=stats.defaulted,
        )

    @strawberry.field
    def lever(self, info: Info) -> Lever:
        return now_or_later(info.context.loaders.lever, self.lever_key, Lever.from_domain)


# -- errors ---------------------------------------------------------------------------------------


@strawberry.type
class UnknownDecisionPoint:
    message: str
    key: str

    @classmethod
    def from_error(cls, error: errors.UnknownDecisionPoint) -> UnknownDecisionPoint:
        return cls(message=error.message, key=error.key)


@strawberry.type(description="No lever can be chosen: all are inactive, retired, outside the candidates or excluded for this customer (`excluded` says by which rule).")
class NoEligibleLever:
    message: str
    candidates: list[str]
    excluded: list[ExcludedLever]

    @classmethod
    def from_error(cls, error: errors.NoEligibleLever) -> NoEligibleLever:
        return cls(
            message=error.message, candidates=list(error.candidates),
            excluded=[ExcludedLever.from_domain(e) for e in error.excluded],
        )


@strawberry.type(description="A feature value cannot be used; `key` names it (context.<name> or attributes.<name>).")
class InvalidContext:
    message: str
    key: str

    @classmethod
    def from_error(cls, error: errors.InvalidContext) -> InvalidContext:
        return cls(message=error.reason, key=error.key)


@strawberry.type
class UnknownDecision:
    message: str
    id: strawberry.ID

    @classmethod
    def from_error(cls, error: errors.UnknownDecision) -> UnknownDecision:
        return cls(message=error.message, id=strawberry.ID(str(error.decision_id)))


@strawberry.type(description="The decision was made with activate: false and never activated.")
class DecisionNotActive:
    message: str
    id: strawberry.ID

    @classmethod
    def from_error(cls, error: errors.DecisionNotActive) -> DecisionNotActive:
        return cls(message=error.message, id=strawberry.ID(str(error.decision_id)))


@strawberry.type(description="A different outcome is already stored for this decision; it stands.")
class OutcomeConflict:
    message: str
    stored: Outcome

    @classmethod
    def from_error(cls, error: errors.OutcomeConflict) -> OutcomeConflict:
        return cls(message=error.message, stored=Outcome.from_domain(error.stored))


UpsertLeverResult = Annotated[Lever | InvalidInput, strawberry.union("UpsertLeverResult")]
ConfigureDecisionPointResult = Annotated[DecisionPoint | InvalidInput, strawberry.union("ConfigureDecisionPointResult")]
DecideResult = Annotated[
    Decision | CustomerNotFound | UnknownDecisionPoint | NoEligibleLever | InvalidContext | InvalidInput
    | BudgetExhausted | ContactPolicyBlocked,
    strawberry.union("DecideResult"),
]
DecideBatchResult = Annotated[
    DecisionBatch | UnknownDecisionPoint | SegmentNotFound | NoEligibleLever | InvalidContext | InvalidInput,
    strawberry.union("DecideBatchResult"),
]
ActivateDecisionResult = Annotated[Decision | UnknownDecision, strawberry.union("ActivateDecisionResult")]
RecordOutcomeResult = Annotated[
    Outcome | UnknownDecision | DecisionNotActive | OutcomeConflict | InvalidInput,
    strawberry.union("RecordOutcomeResult"),
]
RecordOutcomesResult = Annotated[RecordOutcomesPayload | InvalidInput, strawberry.union("RecordOutcomesResult")]


def map_error(error: Exception) -> Any:
    """The schema type of an expected offer failure (the caller re-raises anything else)."""
    for service_type, schema_type in _ERRORS:
        if isinstance(error, service_type):
            return schema_type.from_error(error)
    raise error


_ERRORS: tuple[tuple[type[Exception], Any], ...] = (
    (errors.UnknownDecisionPoint, UnknownDecisionPoint),
    (errors.NoEligibleLever, NoEligibleLever),
    (errors.InvalidContext, InvalidContext),
    (errors.UnknownDecision, UnknownDecision),
    (errors.DecisionNotActive, DecisionNotActive),
    (errors.OutcomeConflict, OutcomeConflict),
    (refusals.BudgetExhausted, BudgetExhausted),
    (refusals.ContactPolicyBlocked, ContactPolicyBlocked),
    (service_errors.CustomerNotFound, CustomerNotFound),
    (service_errors.SegmentNotFound, SegmentNotFound),
    (service_errors.InvalidInput, InvalidInput),
)
