"""Offer mutations (merged into the root Mutation): levers, decision points, decide, outcomes."""

from __future__ import annotations

import strawberry

from api import metrics
from api.context import Info
from api.permissions import ADMIN_ONLY, FOR_CAMPAIGNS
from api.types.offers import (
    ActivateDecisionResult,
    ConfigureDecisionPointResult,
    DecideBatchResult,
    DecideResult,
    Decision,
    DecisionBatch,
    DecisionConnection,
    DecisionPoint,
    Lever,
    Outcome,
    RecordOutcomeResult,
    RecordOutcomesPayload,
    RecordOutcomesResult,
    UpsertLeverResult,
    map_error,
)
from api.types.offers_inputs import DecideBatchInput, DecideInput, DecisionPointInput, LeverInput, OutcomeInput
from api.types.results import ItemError
from services.errors import InvalidInput, ServiceError
from services.offers.values import OutcomeReport


def _decision_id(value: strawberry.ID) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput("id", f"not a decision id: {value!r}") from None


@strawberry.type
class OfferMutation:
    @strawberry.mutation(permission_classes=[ADMIN_ONLY], description="Create or replace a lever (offer or action) by key.")
    async def upsert_lever(self, info: Info, input: LeverInput) -> UpsertLeverResult:
        try:
            return Lever.from_domain(await info.context.services.offers.catalog.upsert_lever(input.to_draft()))
        except ServiceError as exc:
            return map_error(exc)

    @strawberry.mutation(permission_classes=[ADMIN_ONLY], description="Create or reconfigure a decision point; the feature encoder is fitted now.")
    async def configure_decision_point(self, info: Info, input: DecisionPointInput) -> ConfigureDecisionPointResult:
        try:
            point = await info.context.services.offers.catalog.configure(input.to_draft())
        except ServiceError as exc:
            return map_error(exc)
        return DecisionPoint.from_domain(point)

    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="Choose the next best offer for one customer and log it.")
    async def decide(self, info: Info, input: DecideInput) -> DecideResult:
        try:
            decision = await info.context.services.offers.decisions.decide(input.to_request())
        except ServiceError as exc:
            return map_error(exc)
        metrics.decided(decision)
        return Decision.from_domain(decision)

    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="Decide for up to 10,000 customers at once.")
    async def decide_batch(self, info: Info, input: DecideBatchInput) -> DecideBatchResult:
        info.context.pause_collector()
        try:
            result = await info.context.services.offers.decisions.decide_batch(input.to_request())
        except ServiceError as exc:
            return map_error(exc)
        metrics.decided_many(result.decisions)
        return DecisionBatch(
            decisions=DecisionConnection.of(result.decisions),
            errors=[ItemError.from_domain(e) for e in result.errors],
        )

    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="Start the reward window of a decision made with activate: false.")
    async def activate_decision(self, info: Info, id: strawberry.ID) -> ActivateDecisionResult:
        try:
            return Decision.from_domain(await info.context.services.offers.decisions.activate(_decision_id(id)))
        except InvalidInput:
            return map_error(_unknown(id))
        except ServiceError as exc:
            return map_error(exc)

    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="Report what a customer did with an offer; stored exactly once per decision.")
    async def record_outcome(self, info: Info, input: OutcomeInput) -> RecordOutcomeResult:
        try:
            outcome = await info.context.services.offers.outcomes.record(input.to_report())
        except ServiceError as exc:
            return map_error(exc)
        metrics.outcome_recorded(outcome)
        return Outcome.from_domain(outcome)

    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="recordOutcome for up to 10,000 decisions in one transaction.")
    async def record_outcomes(self, info: Info, input: list[OutcomeInput]) -> RecordOutcomesResult:
        try:
            reports: list[OutcomeReport] = [item.to_report() for item in input]
            result = await info.context.services.offers.outcomes.record_many(reports)
        except ServiceError as exc:
            return map_error(exc)
        for outcome in result.outcomes:
            metrics.outcome_recorded(outcome)
        return RecordOutcomesPayload(
            outcomes=[Outcome.from_domain(o) for o in result.outcomes],
            errors=[ItemError.from_domain(e) for e in result.errors],
        )


def _unknown(id: strawberry.ID) -> ServiceError:
    from services.offers.errors import UnknownDecision

    return UnknownDecision(str(id))
