"""Evaluation queries (merged into the root Query): off-policy evaluation and policy replay."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.permissions import FOR_ANALYSTS
from api.context import Info
from api.types.evaluation import (
    Estimator,
    PolicyCandidateInput,
    PolicyComparison,
    PolicyComparisonResult,
    PolicyEvaluation,
    PolicyEvaluationResult,
)
from api.types.offers import PolicyKind, map_error
from services.errors import ServiceError

ALL_ESTIMATORS = [Estimator.IPS, Estimator.SNIPS, Estimator.DR]


@strawberry.type
class EvaluationQuery:
    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="Off-policy evaluation of a candidate policy on the decision point's logged decisions (created in [from, to)), with IPS, SNIPS and DR estimates, 95% bootstrap intervals (seeded) and effective sample sizes.")
    async def policy_evaluation(
        self,
        info: Info,
        decision_point: str,
        candidate: PolicyCandidateInput,
        estimators: list[Estimator] = ALL_ESTIMATORS,  # noqa: B006 - read only, the schema's default
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        seed: int = 0,
    ) -> PolicyEvaluationResult:
        chosen = [e.value for e in estimators]
        try:
            result = await info.context.services.evaluation.policies.evaluate(
                decision_point, candidate.to_domain(), chosen, from_, to, seed
            )
        except ServiceError as exc:
            return map_error(exc)
        return PolicyEvaluation.from_domain(result)

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="Train each policy kind on the oldest `split` of the log (decisions created in [from, to)) and replay it on the uniformly explored decisions after that point (the replay method).")
    async def compare_policies(
        self,
        info: Info,
        decision_point: str,
        policies: list[PolicyKind],
        split: float = 0.7,
        seed: int = 0,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> PolicyComparisonResult:
        try:
            result = await info.context.services.evaluation.comparisons.compare(
                decision_point, [p.value for p in policies], split, seed, from_, to
            )
        except ServiceError as exc:
            return map_error(exc)
        return PolicyComparison.from_domain(result)
