"""Frozen next-best-offer values passed from the services to the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

LEVER_KINDS = ("DISCOUNT", "FREE_SHIPPING", "LOYALTY_POINTS", "PREMIUM_SUPPORT", "BUNDLE", "PERSONAL_CALL", "NO_ACTION", "CUSTOM")
REWARDS = ("ACCEPTED", "REVENUE", "NET_VALUE")
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

    @property
    def encoder_version(self) -> str:
        from engine import FeatureEncoder

        return FeatureEncoder.from_dict(self.encoder).version


@dataclass(frozen=True, slots=True)
class CandidateEstimate:
    lever: str
    estimated_reward: float
    score: float


@dataclass(frozen=True, slots=True)
class Decision:
    id: int
    decision_point: str
    customer_id: int
    request_id: str | None
    lever: str
    propensity: float
    expected_reward: float
    candidates: tuple[str, ...]
    estimates: tuple[CandidateEstimate, ...]
    inputs: dict[str, Any]
    context: dict[str, Any]
    features: tuple[float, ...]
    config_version: int
    model_version: int
    created_at: datetime
    activated_at: datetime | None
    window_ends_at: datetime | None


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
