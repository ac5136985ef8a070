"""Analysts' report queries (merged into the root Query): lever leaderboard, breakdowns, timeline,
alerts per period. Bad arguments raise InvalidInput, whose message names the argument."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.permissions import FOR_ANALYSTS
from api.context import Info
from api.types.enums import Stage
from api.types.lifecycle import ValueTier
from api.types.reports import (
    INTERVAL_METHODS,
    AlertsRaised,
    LeverGroupPerformance,
    LeverPerformance,
    LeverTimelinePoint,
    ReportDimension,
    ReportInterval,
)
from services.errors import InvalidInput
from services.offers.errors import UnknownDecisionPoint
from services.reports.values import ReportFilter

RANGE = "`from` inclusive, `to` exclusive, on the decision's time."


def report_filter(
    start: datetime | None = None,
    end: datetime | None = None,
    segment_key: str | None = None,
    stage: Stage | None = None,
    value_tier: ValueTier | None = None,
    campaign_id: strawberry.ID | None = None,
) -> ReportFilter:
    campaign: int | None = None
    if campaign_id is not None:
        try:
            campaign = int(campaign_id)
        except ValueError:
            raise InvalidInput("campaignId", f"must be a campaign id, got {campaign_id!r}") from None
    return ReportFilter(
        start, end, segment_key, stage.value if stage else None, value_tier.value if value_tier else None, campaign
    )


def _unknown_point(exc: UnknownDecisionPoint) -> InvalidInput:
    return InvalidInput("decisionPoint", exc.message)


@strawberry.type
class ReportQuery:
    @strawberry.field(permission_classes=[FOR_ANALYSTS], 
        description="The lever leaderboard of a decision point. " + RANGE
        + " segmentKey, stage and valueTier select customers by their CURRENT state; campaignId by the decision's campaign. "
        + INTERVAL_METHODS
    )
    async def lever_performance(
        self,
        info: Info,
        decision_point: str,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        segment_key: str | None = None,
        stage: Stage | None = None,
        value_tier: ValueTier | None = None,
        campaign_id: strawberry.ID | None = None,
        seed: Annotated[int, strawberry.argument(description="Seed of the probabilityBest Monte Carlo.")] = 0,
    ) -> list[LeverPerformance]:
        scope = report_filter(from_, to, segment_key, stage, value_tier, campaign_id)
        try:
            rows = await info.context.services.lever_reports.performance(decision_point, scope, seed=seed)
        except UnknownDecisionPoint as exc:
            raise _unknown_point(exc) from None
        return [LeverPerformance.from_domain(row) for row in rows]

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="The lever leaderboard per customer group (see ReportDimension). " + RANGE)
    async def lever_performance_by(
        self,
        info: Info,
        decision_point: str,
        dimension: ReportDimension,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        campaign_id: strawberry.ID | None = None,
        seed: int = 0,
    ) -> list[LeverGroupPerformance]:
        scope = report_filter(from_, to, campaign_id=campaign_id)
        try:
            groups = await info.context.services.lever_reports.performance_by(decision_point, dimension.value, scope, seed=seed)
        except UnknownDecisionPoint as exc:
            raise _unknown_point(exc) from None
        return [LeverGroupPerformance.from_domain(group) for group in groups]

    @strawberry.field(permission_classes=[FOR_ANALYSTS], 
        description="Per period and lever: allocation share, accept rate, revenue. Every lever seen in the range has a row "
        "in every period that has decisions. " + RANGE
    )
    async def lever_timeline(
        self,
        info: Info,
        decision_point: str,
        interval: ReportInterval = ReportInterval.WEEK,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        campaign_id: strawberry.ID | None = None,
    ) -> list[LeverTimelinePoint]:
        scope = report_filter(from_, to, campaign_id=campaign_id)
        try:
            points = await info.context.services.lever_reports.timeline(decision_point, interval.value, scope)
        except UnknownDecisionPoint as exc:
            raise _unknown_point(exc) from None
        return [LeverTimelinePoint.from_domain(point) for point in points]

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="Churn alerts raised per period and type (by raise time), whatever their status now.")
    async def alerts_raised(
        self,
        info: Info,
        interval: ReportInterval = ReportInterval.WEEK,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> list[AlertsRaised]:
        counts = await info.context.services.alert_reports.raised(interval.value, from_, to)
        return [AlertsRaised.from_domain(count) for count in counts]
