"""Analysts' evaluation types: the decision log import, off-policy estimates, policy replays."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.types.results import ItemError
from services import domain
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

    def to_draft(self) -> LoggedDecisionDraft:
        return LoggedDecisionDraft(
            external_id=self.external_id, decision_point=self.decision_point, lever=self.lever,
            decided_at=self.decided_at, accepted=self.accepted, revenue=self.revenue,
            propensity=self.propensity, features=self.features, attributes=self.attributes,
            request_id=self.request_id,
        )


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
