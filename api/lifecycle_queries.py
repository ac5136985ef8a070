"""Lifecycle query fields (merged into the root Query): alerts, segment previews, analytics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.permissions import pii_probe, EVERY_ROLE, FOR_ANALYSTS
from api.types.customer import Customer
from api.types.enums import Stage
from api.types.lifecycle import (
    AcquisitionMonth,
    Alert,
    AlertConnection,
    AlertStatus,
    AlertType,
    Cohort,
    FunnelStep,
    GroupBy,
    LifecycleConfig,
    MonthlyRate,
    ReasonCode,
    ReasonKind,
    ReasonShare,
    ValueTier,
)
from api.types.pagination import edges_of
from api.types.results import InvalidInput
from services import errors
from services.lifecycle.values import AlertFilter as AlertFilterValue


@strawberry.input
class AlertFilter:
    status: AlertStatus | None = None
    type: AlertType | None = None
    stage: Stage | None = None
    tier: ValueTier | None = None

    def to_filter(self) -> AlertFilterValue:
        return AlertFilterValue(
            status=self.status.value if self.status else None,
            type=self.type.value if self.type else None,
            stage=self.stage.value if self.stage else None,
            tier=self.tier.value if self.tier else None,
        )


@strawberry.type
class SegmentPreview:
    count: int
    sample: list[Customer]


@strawberry.type
class Referrer:
    customer: Customer
    referrals: int
    conversions: int = strawberry.field(description="Referred customers who went on to buy.")


PreviewSegmentResult = Annotated[SegmentPreview | InvalidInput, strawberry.union("PreviewSegmentResult")]


@strawberry.type
class LifecycleQuery:
    @strawberry.field(permission_classes=[EVERY_ROLE], description="Churn alarms, newest first (Relay connection).")
    async def alerts(
        self, info: Info, filter: AlertFilter | None = None, first: int = 50, after: str | None = None
    ) -> AlertConnection:
        where = filter.to_filter() if filter else AlertFilterValue()
        page = await info.context.services.alerts.page(where, first=first, after=after)
        edges, page_info = edges_of(page, Alert.from_domain)
        return AlertConnection(edges=edges, page_info=page_info)

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="How many customers a segment rule selects now, with a sample; nothing is saved.")
    async def preview_segment(self, info: Info, rule: JSON, sample: int = 10) -> PreviewSegmentResult:
        if pii_probe(info, rule=rule):
            return InvalidInput.from_error(errors.InvalidInput("rule", "name, email and phone are masked for ANALYST keys and cannot be filtered on"))
        try:
            preview = await info.context.services.rule_segments.preview(rule, sample=sample)
        except errors.InvalidInput as exc:
            return InvalidInput.from_error(exc)
        return SegmentPreview(count=preview.count, sample=[Customer.from_domain(c) for c in preview.sample])

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="The lifecycle thresholds in force.")
    async def lifecycle_config(self, info: Info) -> LifecycleConfig:
        return LifecycleConfig.from_domain(await info.context.services.lifecycle.config())

    @strawberry.field(permission_classes=[EVERY_ROLE], description="The reason taxonomy.")
    async def reason_codes(self, info: Info, kind: ReasonKind | None = None) -> list[ReasonCode]:
        codes = await info.context.services.reasons.codes(kind.value if kind else None)
        return [ReasonCode.from_domain(c) for c in codes]

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="Customers per reason (each by their latest reason in range), with shares.")
    async def reason_breakdown(
        self, info: Info, kind: ReasonKind,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None, segment_key: str | None = None,
    ) -> list[ReasonShare]:
        shares = await info.context.services.reasons.breakdown(kind.value, from_, to, segment_key)
        return [ReasonShare(code=s.code, count=s.count, share=s.share) for s in shares]

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="New customers by acquisition channel, per cohort month.")
    async def acquisition_mix(
        self, info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None, group_by: GroupBy = GroupBy.MONTH,
    ) -> list[AcquisitionMonth]:
        mixes = await info.context.services.analytics.acquisition_mix(from_, to)
        return [AcquisitionMonth.from_domain(m) for m in mixes]

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="Customers who brought the most customers.")
    async def top_referrers(self, info: Info, first: int = 10) -> list[Referrer]:
        found = await info.context.services.analytics.top_referrers(first)
        return [Referrer(customer=Customer.from_domain(r.customer), referrals=r.referrals,
                         conversions=r.conversions) for r in found]

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="For customers created in range: counts reaching each stage, stage-to-stage conversion and median days in stage.")
    async def funnel(
        self, info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None, segment_key: str | None = None,
    ) -> list[FunnelStep]:
        steps = await info.context.services.analytics.funnel(from_, to, segment_key)
        return [FunnelStep.from_domain(s) for s in steps]

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="Per acquisition month: share active, churned or reactivated after 1, 3, 6 and 12 months.")
    async def cohorts(self, info: Info, group_by: GroupBy = GroupBy.MONTH) -> list[Cohort]:
        return [Cohort.from_domain(c) for c in await info.context.services.analytics.cohorts()]

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="Per month: customers who churned / customers active at the month's start.")
    async def churn_rate(
        self, info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime, segment_key: str | None = None,
    ) -> list[MonthlyRate]:
        rates = await info.context.services.analytics.churn_rate(from_, to, segment_key)
        return [MonthlyRate(month=r.month, base=r.base, events=r.events, rate=r.rate) for r in rates]

    @strawberry.field(permission_classes=[FOR_ANALYSTS], description="Per month: churned customers who came back / customers churned at the month's start.")
    async def reactivation_rate(
        self, info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime, segment_key: str | None = None,
    ) -> list[MonthlyRate]:
        rates = await info.context.services.analytics.reactivation_rate(from_, to, segment_key)
        return [MonthlyRate(month=r.month, base=r.base, events=r.events, rate=r.rate) for r in rates]
