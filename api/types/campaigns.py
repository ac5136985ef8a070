"""Campaign types: the target list decided under a campaign and its results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.types.offers import Decision, InvalidContext, NoEligibleLever, UnknownDecisionPoint
from api.types.results import InvalidInput, SegmentNotFound
from services.errors import InvalidInput as InvalidInputError
from services.offers import campaigns

MAX_PAGE = 1000


@strawberry.type(description="Members passed over, by reason: contactPolicy, budget, or features (a stored value the model cannot take).")
class SkippedCount:
    reason: str
    count: int


@strawberry.type(description="Results of a lever, of the treated group (every offer) or of the control group (NO_ACTION).")
class CampaignLeverOutcome:
    lever_key: str
    targets: int
    activated: int
    outcomes: int
    accepted: int
    accept_rate: float | None
    revenue: float = strawberry.field(description="Revenue of accepted offers.")
    cost: float = strawberry.field(description="Discount and cost shares of that revenue, unit costs of accepted offers, contact costs of activated ones.")

    @classmethod
    def from_domain(cls, found: campaigns.LeverOutcome) -> CampaignLeverOutcome:
        return cls(
            lever_key=found.lever, targets=found.targets, activated=found.activated, outcomes=found.outcomes,
            accepted=found.accepted, accept_rate=found.accept_rate, revenue=found.revenue, cost=found.cost,
        )


@strawberry.type
class CampaignReport:
    levers: list[CampaignLeverOutcome]
    treated: CampaignLeverOutcome
    control: CampaignLeverOutcome
    uplift: float | None = strawberry.field(description="Treated accept rate minus control accept rate.")


@strawberry.type(description="A ranked target list decided under one id, and afterwards its outcomes.")
class Campaign:
    _campaign: strawberry.Private[campaigns.Campaign]
    id: strawberry.ID
    name: str
    decision_point: str
    segment_key: str
    limit: int
    defer_activation: bool
    ranked: int = strawberry.field(description="Segment members scored.")
    targeted: int = strawberry.field(description="Decisions logged under the campaign.")
    skipped: list[SkippedCount]
    created_at: datetime

    @classmethod
    def from_domain(cls, found: campaigns.Campaign) -> Campaign:
        return cls(
            _campaign=found, id=strawberry.ID(str(found.id)), name=found.name, decision_point=found.decision_point,
            segment_key=found.segment_key, limit=found.limit, defer_activation=found.defer_activation,
            ranked=found.ranked, targeted=found.targeted,
            skipped=[SkippedCount(reason=k, count=v) for k, v in sorted(found.skipped.items())],
            created_at=found.created_at,
        )

    @strawberry.field(description="The campaign's decisions, best ranked first.")
    async def targets(self, info: Info, first: int = 100, offset: int = 0) -> list[Decision]:
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInputError("first", f"must be between 1 and {MAX_PAGE}, got {first}")
        if offset < 0:
            raise InvalidInputError("offset", f"must be >= 0, got {offset}")
        found = await info.context.services.offers.campaigns.targets(self._campaign, offset, first)
        return [Decision.from_domain(d) for d in found]

    @strawberry.field(description="Outcomes per lever, treated against control.")
    async def report(self, info: Info) -> CampaignReport:
        found = await info.context.services.offers.campaigns.report(self._campaign.id)
        return CampaignReport(
            levers=[CampaignLeverOutcome.from_domain(l) for l in found.levers],
            treated=CampaignLeverOutcome.from_domain(found.treated),
            control=CampaignLeverOutcome.from_domain(found.control), uplift=found.uplift,
        )


@strawberry.input(description="Rank a segment and decide for its best `limit` customers under a new campaign.")
class CampaignInput:
    name: str
    decision_point: str
    segment_key: str
    limit: int
    defer_activation: bool = strawberry.field(default=True, description="Log now, activate when really sent (the default for campaigns).")
    context: JSON | None = None

    def to_draft(self) -> campaigns.CampaignDraft:
        if self.context is not None and not isinstance(self.context, dict):
            raise InvalidInputError("context", "must be an object of scalar values")
        return campaigns.CampaignDraft(
            name=self.name, decision_point=self.decision_point, segment_key=self.segment_key, limit=self.limit,
            defer_activation=self.defer_activation, context=self.context,
        )


CreateCampaignResult = Annotated[
    Campaign | UnknownDecisionPoint | SegmentNotFound | NoEligibleLever | InvalidContext | InvalidInput,
    strawberry.union("CreateCampaignResult"),
]
