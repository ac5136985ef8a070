"""Offer queries (merged into the root Query)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Info
from api.permissions import FOR_ANALYSTS, OFFER_CATALOGUE
from api.types.offers import Decision, DecisionPoint, Lever, LeverStats
from services.errors import InvalidInput
from services.offers.errors import UnknownDecision, UnknownDecisionPoint


@strawberry.type
class OfferQuery:
    @strawberry.field(permission_classes=[OFFER_CATALOGUE], description="Every lever, active or not.")
    async def levers(self, info: Info) -> list[Lever]:
        return [Lever.from_domain(lever) for lever in await info.context.services.offers.catalog.levers()]

    @strawberry.field(permission_classes=[OFFER_CATALOGUE])
    async def decision_points(self, info: Info) -> list[DecisionPoint]:
        return [DecisionPoint.from_domain(p) for p in await info.context.services.offers.catalog.decision_points()]

    @strawberry.field(permission_classes=[OFFER_CATALOGUE], description="A logged decision by id; null when there is none.")
    async def decision(self, info: Info, id: strawberry.ID) -> Decision | None:
        try:
            return Decision.from_domain(await info.context.services.offers.decisions.get(int(id)))
        except (ValueError, UnknownDecision):
            return None

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="Per lever of a decision point: decisions, activated, outcomes, accepted, accept rate, revenue. An unknown decision point is an error naming it.")
    async def lever_stats(self, info: Info, decision_point: str, since: datetime | None = None) -> list[LeverStats]:
        try:
            stats = await info.context.services.offers.outcomes.lever_stats(decision_point, since)
        except UnknownDecisionPoint as exc:
            # graphql-core reports the message, which names the key, under the field's path
            raise InvalidInput("decisionPoint", exc.message) from None
        return [LeverStats.from_domain(s) for s in stats]
