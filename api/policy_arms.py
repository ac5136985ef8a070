"""Champion / challenger / shadow over GraphQL: promotePolicy and policyArms (merged into the roots)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.permissions import ADMIN_ONLY, FOR_ANALYSTS
from api.context import Info
from api.types.offer_guardrails import PolicyArmReport
from api.types.offers import DecisionPoint, UnknownDecisionPoint, map_error
from api.types.results import InvalidInput
from services.errors import InvalidInput as InvalidInputError
from services.errors import ServiceError
from services.offers.errors import UnknownDecisionPoint as UnknownDecisionPointError

PromotePolicyResult = Annotated[
    DecisionPoint | UnknownDecisionPoint | InvalidInput, strawberry.union("PromotePolicyResult")
]


@strawberry.type
class PolicyArmMutation:
    @strawberry.mutation(permission_classes=[ADMIN_ONLY], description="Make a challenger arm the champion; every arm keeps what it learned.")
    async def promote_policy(self, info: Info, decision_point: str, arm: str) -> PromotePolicyResult:
        try:
            return DecisionPoint.from_domain(await info.context.services.offers.arms.promote(decision_point, arm))
        except ServiceError as exc:
            return map_error(exc)


@strawberry.type
class PolicyArmQuery:
    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="Per policy arm of a decision point: decisions, outcomes, accept rate and mean reward; for a shadow arm its agreement rate with what was served and its expected reward.")
    async def policy_arms(self, info: Info, decision_point: str) -> list[PolicyArmReport]:
        try:
            reports = await info.context.services.offers.arms.report(decision_point)
        except UnknownDecisionPointError as exc:
            raise InvalidInputError("decisionPoint", exc.message) from None
        return [PolicyArmReport.from_domain(r) for r in reports]
