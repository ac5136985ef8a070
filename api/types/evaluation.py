"""Analysts' evaluation types: the decision log import, off-policy estimates, policy replays."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import numpy as np
import strawberry
from strawberry.scalars import JSON

from api.types.offers import UnknownDecisionPoint
from api.types.offers_inputs import PolicyInput
from api.types.results import InvalidInput, ItemError
from services import domain
from services.evaluation import values
from services.evaluation.log_import import LoggedDecisionDraft


@strawberry.input(description="One decision of a historical log, with its outcome.")
class LoggedDecisionInput:
    external_id: str = strawberry.field(description="The customer; created (with `attributes`) when unknown.")
    decision_point: str
    lever: str
    decided_at: datetime = strawberry.field(description="When the decision was made; must carry a time zone.")
    accepted: bool
    revenue: float | None = None
    propensity: float | None = strawberry.field(default=None, description="Probability the logging policy had of choosing this lever, in (0, 1]; null when unknown (the row is then left out of off-policy estimates).")
    features: JSON | None = strawberry.field(default=None, description="The context: the decision point's feature names -> raw values, encoded with its current encoder.")
    attributes: JSON | None = strawberry.field(default=None, description="Attributes of a customer this row creates.")
    request_id: str | None = strawberry.field(default=None, description="Makes the row idempotent: a stored requestId at the decision point counts as a duplicate.")


# Like CustomerInput and EventInput (see api.inputs), items are built straight into service drafts
# from the values graphql-core has coerced: the resolver receives LoggedDecisionDraft objects.
def _logged_decision_draft(_: type, value: Mapping[str, Any], __: Any) -> LoggedDecisionDraft:
    get = value.get
    return LoggedDecisionDraft(
        external_id=value["externalId"],
        decision_point=value["decisionPoint"],
        lever=value["lever"],
        decided_at=value["decidedAt"],
        accepted=value["accepted"],
        revenue=get("revenue"),
        propensity=get("propensity"),
        features=get("features"),
        attributes=get("attributes"),
        request_id=get("requestId"),
    )


LoggedDecisionInput.__strawberry_definition__.from_input = _logged_decision_draft  # type: ignore[attr-defined]


@strawberry.type(description="Valid rows were written as imported decisions and outcomes; each rejected one is in `errors` by index.")
class ImportDecisionLogPayload:
    accepted: int
    duplicates: int
    customers_created: int
    errors: list[ItemError]

    @classmethod
    def from_domain(cls, result: domain.BulkResult) -> ImportDecisionLogPayload:
        return cls(
            accepted=result.accepted, duplicates=result.duplicates, customers_created=result.created,
            errors=[ItemError.from_domain(e) for e in result.errors],
        )


@strawberry.enum(description="Off-policy estimators: IPS (inverse propensity), SNIPS (self-normalised IPS), DR (doubly robust with a ridge reward model per lever).")
class Estimator(Enum):
    IPS = "IPS"
    SNIPS = "SNIPS"
    DR = "DR"


@strawberry.enum(description="POLICY: a configuration trained on the oldest `split` of the log and evaluated on the rest. CURRENT_MODEL: the decision point's serving model. ALWAYS: always `lever`. UNIFORM_RANDOM: uniform over the logged candidates.")
class CandidateKind(Enum):
    POLICY = "POLICY"
    CURRENT_MODEL = "CURRENT_MODEL"
    ALWAYS = "ALWAYS"
    UNIFORM_RANDOM = "UNIFORM_RANDOM"


@strawberry.input(description="The policy to evaluate offline.")
class PolicyCandidateInput:
    kind: CandidateKind
    policy: PolicyInput | None = strawberry.field(default=None, description="For POLICY: the configuration to train.")
    lever: str | None = strawberry.field(default=None, description="For ALWAYS: the lever.")
    split: float = strawberry.field(default=0.7, description="For POLICY: the share of the log (oldest first) it is trained on.")

    def to_domain(self) -> values.PolicyCandidate:
        policy = self.policy.to_domain() if self.policy is not None else None
        return values.PolicyCandidate(self.kind.value, policy, self.lever, self.split)


@strawberry.type(description="One estimate with its 95% interval and the effective sample size of its importance weights.")
class PolicyEstimate:
    estimator: str
    value: float
    low: float
    high: float
    effective_sample_size: float

    @classmethod
    def from_domain(cls, e: values.PolicyEstimate) -> PolicyEstimate:
        return cls(estimator=e.estimator, value=e.value, low=e.low, high=e.high, effective_sample_size=e.effective_sample_size)


@strawberry.type(description="What a candidate policy would have earned per decision on the logged decisions, beside what the logged policy earned.")
class PolicyEvaluation:
    decision_point: str
    candidate: str
    rows: int = strawberry.field(description="Logged decisions with an outcome in the window.")
    evaluated_rows: int
    training_rows: int = strawberry.field(description="Oldest rows a POLICY candidate was trained on (not evaluated on).")
    excluded_without_propensity: int
    excluded_other_version: int = strawberry.field(description="Rows logged under an older configuration (other feature encoding).")
    logged_value: PolicyEstimate = strawberry.field(description="The logging policy's own mean reward on the evaluated rows.")
    estimates: list[PolicyEstimate]
    interval_method: str

    @classmethod
    def from_domain(cls, r: values.PolicyEvaluation) -> PolicyEvaluation:
        return cls(
            decision_point=r.decision_point, candidate=r.candidate, rows=r.rows, evaluated_rows=r.evaluated,
            training_rows=r.training_rows, excluded_without_propensity=r.excluded_without_propensity,
            excluded_other_version=r.excluded_other_version, logged_value=PolicyEstimate.from_domain(r.logged),
            estimates=[PolicyEstimate.from_domain(e) for e in r.estimates], interval_method=r.interval_method,
        )


CURVE_POINTS = 200


@strawberry.type(description="A policy replayed on the uniformly explored part of the log. LOGGED is the logging policy itself.")
class PolicyReplay:
    policy: str
    matched: int = strawberry.field(description="Rows where the policy chose the logged lever (and learned it).")
    mean_reward: float
    total_reward: float
    curve_steps: list[int] = strawberry.field(description="Replayed rows at each curve point (at most 200 points).")
    cumulative_reward: list[float]

    @classmethod
    def from_domain(cls, r: values.PolicyReplay) -> PolicyReplay:
        n = len(r.cumulative_reward)
        steps = sorted({int(round(x)) for x in np.linspace(1, n, min(n, CURVE_POINTS))}) if n else []
        return cls(
            policy=r.policy, matched=r.matched, mean_reward=r.mean_reward,
            total_reward=r.cumulative_reward[-1] if n else 0.0, curve_steps=steps,
            cumulative_reward=[r.cumulative_reward[s - 1] for s in steps],
        )


@strawberry.type(description="Policy kinds trained on the oldest `split` of the log and replayed on the uniformly explored rows after it.")
class PolicyComparison:
    decision_point: str
    rows: int
    training_rows: int
    replay_rows: int
    excluded_not_uniform: int
    replays: list[PolicyReplay]

    @classmethod
    def from_domain(cls, c: values.PolicyComparison) -> PolicyComparison:
        return cls(
            decision_point=c.decision_point, rows=c.rows, training_rows=c.training_rows, replay_rows=c.replay_rows,
            excluded_not_uniform=c.excluded_not_uniform, replays=[PolicyReplay.from_domain(r) for r in c.replays],
        )


PolicyEvaluationResult = Annotated[
    PolicyEvaluation | InvalidInput | UnknownDecisionPoint, strawberry.union("PolicyEvaluationResult")
]
PolicyComparisonResult = Annotated[
    PolicyComparison | InvalidInput | UnknownDecisionPoint, strawberry.union("PolicyComparisonResult")
]
