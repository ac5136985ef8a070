"""Frozen next-best-offer values passed from the services to the API and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

LEVER_KINDS = ("DISCOUNT", "FREE_SHIPPING", "LOYALTY_POINTS", "PREMIUM_SUPPORT", "BUNDLE", "PERSONAL_CALL", "NO_ACTION", "CUSTOM")
REWARDS = ("ACCEPTED", "REVENUE", "NET_VALUE")
OBJECTIVES = ("REWARD", "NET_VALUE")
MAIN_ARM = "main"
POLICY_KINDS = ("LIN_TS", "LIN_UCB", "EPSILON_GREEDY", "THOMPSON", "SOFTMAX", "RANDOM")


@dataclass(frozen=True, slots=True)
class Lever:
    key: str
    name: str
    kind: str = "CUSTOM"
    discount_percent: float = 0.0
    unit_cost: float = 0.0
    cost_percent_of_value: float = 0.0
    contact_cost: float = 0.0
    active: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None
    eligibility: dict[str, Any] | None = None
    weight: float = 1.0

    def cost_if_accepted(self, revenue: float) -> float:
        """What an accepted offer gives away: its discount and cost shares of revenue, plus unit cost."""
        return (self.discount_percent + self.cost_percent_of_value) / 100.0 * revenue + self.unit_cost


@dataclass(frozen=True, slots=True)
class LeverDraft:
    key: str
    name: str
    kind: str = "CUSTOM"
    discount_percent: float = 0.0
    unit_cost: float = 0.0
    cost_percent_of_value: float = 0.0
    contact_cost: float = 0.0
    active: bool = True
    eligibility: dict[str, Any] | None = None
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Policy:
    kind: str = "LIN_TS"
    alpha: float = 1.0
    epsilon: float = 0.1
    tau: float = 1.0
    l2_lambda: float = 1.0
    seed: int = 0
    propensity_samples: int = 100
    success_threshold: float | None = None


@dataclass(frozen=True, slots=True)
class PolicyArm:
    """A named policy configuration of a decision point with its own model. A serving arm takes
    ``traffic_percent`` of the customers; a shadow arm scores every decision and never serves."""

    name: str
    policy: Policy = field(default_factory=Policy)
    traffic_percent: float = 0.0
    shadow: bool = False


@dataclass(frozen=True, slots=True)
class Guardrails:
    """What a decision point adds around its bandit (issue 5): tier caps on discounts, the
    objective (NET_VALUE ranks levers by expected net value), the control group and challengers."""

    max_discount_percent: tuple[tuple[str, float], ...] = ()
    objective: str = "REWARD"
    value_attribute: str | None = None
    control_share: float = 0.0
    control_period_days: int = 30
    challengers: tuple[PolicyArm, ...] = ()
    champion: str = MAIN_ARM

    @property
    def tier_caps(self) -> dict[str, float]:
        return dict(self.max_discount_percent)

    @property
    def champion_traffic(self) -> float:
        return 100.0 - sum(arm.traffic_percent for arm in self.challengers if not arm.shadow)


@dataclass(frozen=True, slots=True)
class DecisionPointDraft:
    key: str
    levers: tuple[str, ...]
    name: str | None = None
    policy: Policy = field(default_factory=Policy)
    features: tuple[str, ...] = ()
    reward: str = "ACCEPTED"
    reward_window_hours: float = 168.0
    default_reward: float = 0.0
    # Example request contexts, so `context.<name>` features are fitted like the profile ones.
    context_examples: tuple[dict[str, Any], ...] = ()
    refit: bool = False
    guardrails: Guardrails = field(default_factory=Guardrails)


@dataclass(frozen=True, slots=True)
class DecisionPoint:
    id: int
    key: str
    name: str
    levers: tuple[str, ...]
    known_levers: tuple[str, ...]
    policy: Policy
    features: tuple[str, ...]
    reward: str
    reward_window_hours: float
    default_reward: float
    version: int
    encoder: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    guardrails: Guardrails = field(default_factory=Guardrails)

    def arm_policy(self, arm: str) -> Policy:
        if arm == self.guardrails.champion:
            return self.policy
        return next(a.policy for a in self.guardrails.challengers if a.name == arm)

    @property
    def arms(self) -> tuple[str, ...]:
        """Every arm with a model: the champion first."""
        return (self.guardrails.champion, *(a.name for a in self.guardrails.challengers))

    @property
    def encoder_version(self) -> str:
        from engine import FeatureEncoder

        return FeatureEncoder.from_dict(self.encoder).version


@dataclass(frozen=True, slots=True)
class NetValueTerms:
    """P(accept) x value - expected cost, times the lever's weight (NET_VALUE arbitration)."""

    p_accept: float
    value: float
    cost: float
    weight: float
    net_value: float


@dataclass(frozen=True, slots=True)
class CandidateEstimate:
    lever: str
    estimated_reward: float
    score: float
    net_value: NetValueTerms | None = None


@dataclass(frozen=True, slots=True)
class ExcludedLever:
    """A lever that could not be chosen for this customer and the rule that excluded it."""

    lever: str
    rule: str


@dataclass(frozen=True, slots=True)
class Decision:
    id: int
    decision_point: str
    customer_id: int
    request_id: str | None
    lever: str
    propensity: float | None  # None only for an imported decision logged without one
    expected_reward: float
    candidates: tuple[str, ...]
    # As logged: {"estimates": [{lever, estimatedReward, score, netValue?}], "inputs": [[name, value]],
    # "excluded": [{lever, rule}]}. Read through ``estimates``, ``inputs`` and ``excluded``, which
    # build their values when asked: a batch of 10,000 decisions whose callers read only ids spent
    # a sixth of its time building them up front.
    explanation: Mapping[str, Any]
    context: dict[str, Any]
    features: tuple[float, ...]
    config_version: int
    model_version: int
    created_at: datetime
    activated_at: datetime | None
    window_ends_at: datetime | None
    imported: bool = False
    holdout: bool = False
    policy_arm: str = MAIN_ARM
    shadow: ShadowScore | None = None
    # The lever's catalogue entry the decision was made with; None when read back from the log.
    served: Lever | None = field(default=None, compare=False, repr=False)

    @property
    def estimates(self) -> tuple[CandidateEstimate, ...]:
        """Each candidate lever's estimated reward and the score it was ranked on."""
        return tuple(
            CandidateEstimate(e["lever"], e["estimatedReward"], e["score"], net_value_terms(e.get("netValue")))
            for e in self.explanation.get("estimates", ())
        )

    @property
    def inputs(self) -> dict[str, Any]:
        """The feature values the decision was made on, by feature name, in configuration order."""
        return {name: value for name, value in self.explanation.get("inputs", ())}

    @property
    def excluded(self) -> tuple[ExcludedLever, ...]:
        """The levers eligibility rules removed for this customer, with the rule."""
        return tuple(ExcludedLever(e["lever"], e["rule"]) for e in self.explanation.get("excluded", ()))


def net_value_terms(data: Mapping[str, Any] | None) -> NetValueTerms | None:
    """The NET_VALUE terms of one logged estimate, if it has them."""
    if not data:
        return None
    return NetValueTerms(data["pAccept"], data["value"], data["cost"], data["weight"], data["netValue"])


@dataclass(frozen=True, slots=True)
class ShadowScore:
    """What the shadow arm would have served for the same decision."""

    arm: str
    lever: str
    expected_reward: float


@dataclass(frozen=True, slots=True)
class DecideRequest:
    """Names the customer by ``external_id`` or by internal ``customer_id``."""

    decision_point: str
    external_id: str | None = None
    request_id: str | None = None
    context: dict[str, Any] | None = None
    candidates: tuple[str, ...] | None = None
    activate: bool = True
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    id: int
    decision_id: int
    accepted: bool
    revenue: float | None
    reward: float
    late: bool
    source: str
    idempotency_key: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutcomeReport:
    decision_id: int
    accepted: bool
    revenue: float | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class LeverStats:
    lever: str
    decisions: int
    activated: int
    outcomes: int
    accepted: int
    revenue: float
    reward: float
    late: int
    defaulted: int

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.outcomes if self.outcomes else None

    @property
    def mean_reward(self) -> float | None:
        return self.reward / self.outcomes if self.outcomes else None


@dataclass(frozen=True, slots=True)
class BatchRequest:
    decision_point: str
    external_ids: tuple[str, ...] = ()
    request_id: str | None = None
    context: dict[str, Any] | None = None
    candidates: tuple[str, ...] | None = None
    activate: bool = True
    segment_key: str | None = None
    limit: int | None = None
    campaign_id: int | None = None


@dataclass(frozen=True, slots=True)
class BatchDecisions:
    """Decisions in input order (existing ones for replayed request ids); rejected items by index."""

    decisions: tuple[Decision, ...]
    errors: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class BulkOutcomes:
    """Stored outcomes in input order (retries return the stored one); rejected items by index."""

    outcomes: tuple[Outcome, ...]
    errors: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyArmReport:
    name: str
    champion: bool
    shadow: bool
    traffic_percent: float
    decisions: int
    outcomes: int
    accepted: int
    reward: float
    scored: int
    agreements: int
    expected_reward: float | None
    served_expected_reward: float | None
