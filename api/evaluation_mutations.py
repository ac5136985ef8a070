"""Evaluation mutations (merged into the root Mutation): importing a historical decision log."""

from __future__ import annotations

import strawberry

from api.permissions import FOR_ANALYSTS
from api.context import Info
from api.types.evaluation import ImportDecisionLogPayload, LoggedDecisionInput
from api.types.results import bulk_refusal
from services import errors


@strawberry.type
class EvaluationMutation:
    @strawberry.mutation(permission_classes=[FOR_ANALYSTS], description="Import up to 10,000 logged decisions with their outcomes, flagged imported. With warmStart: true the decision points' models learn them; otherwise only reports and evaluations use them.")
    async def import_decision_log(
        self, info: Info, input: list[LoggedDecisionInput], warm_start: bool = False
    ) -> ImportDecisionLogPayload:
        try:
            # Items arrive as LoggedDecisionDraft (see api.types.evaluation: from_input).
            result = await info.context.services.evaluation.log.import_many(input, warm_start=warm_start)  # type: ignore[arg-type]
        except errors.InvalidInput as exc:
            result = bulk_refusal(exc)
        return ImportDecisionLogPayload.from_domain(result)
