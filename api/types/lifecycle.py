"""Lifecycle types: alerts, value scores, reasons, analytics figures and the lifecycle config."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api.types.pagination import Edge, PageInfo
from services.lifecycle import analytics, reasons, values
from services.lifecycle.config import LifecycleConfig as ConfigValue


@strawberry.enum(description="What raised a churn alarm.")
class AlertType(Enum):
    NEGATIVE_SURVEY = "NEGATIVE_SURVEY"
    COMPLAINT = "COMPLAINT"
    CANCELLATION_REQUEST = "CANCELLATION_REQUEST"
    INACTIVITY = "INACTIVITY"


@strawberry.enum
class AlertStatus(Enum):
    OPEN = "OPEN"
    ACTIONED = "ACTIONED"
    RESOLVED = "RESOLVED"
    EXPIRED = "EXPIRED"


@strawberry.enum
class Severity(Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


@strawberry.enum(description="RETENTION for active customers, RECOVERY for churned ones.")
class RecommendedAction(Enum):
    RETENTION = "RETENTION"
    RECOVERY = "RECOVERY"


@strawberry.enum(description="PLATINUM, GOLD, SILVER: the top shares of buyers by monetary value.")
class ValueTier(Enum):
    PLATINUM = "PLATINUM"
    GOLD = "GOLD"
    SILVER = "SILVER"
    BRONZE = "BRONZE"


@strawberry.enum(description="The standard named RFM segments.")
class RfmSegment(Enum):
    CHAMPIONS = "CHAMPIONS"
    LOYAL = "LOYAL"
    POTENTIAL_LOYALIST = "POTENTIAL_LOYALIST"
    NEW = "NEW"
    PROMISING = "PROMISING"
    NEED_ATTENTION = "NEED_ATTENTION"
    ABOUT_TO_SLEEP = "ABOUT_TO_SLEEP"
    AT_RISK = "AT_RISK"
    CANT_LOSE_THEM = "CANT_LOSE_THEM"
    HIBERNATING = "HIBERNATING"
    LOST = "LOST"


@strawberry.enum
class ReasonKind(Enum):
    CHURN = "CHURN"
    LOST_PROSPECT = "LOST_PROSPECT"


@strawberry.enum
class GroupBy(Enum):
    MONTH = "MONTH"


@strawberry.type
class Alert:
    id: strawberry.ID
    customer_id: strawberry.ID
    type: AlertType
    severity: Severity
    status: AlertStatus
    recommended_action: RecommendedAction
    evidence_event_id: strawberry.ID | None = strawberry.field(description="The event that caused it.")
    raised_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    note: str | None

    @classmethod
    def from_domain(cls, alert: values.Alert) -> Alert:
        return cls(
            id=strawberry.ID(str(alert.id)),
            customer_id=strawberry.ID(str(alert.customer_id)),
            type=AlertType(alert.type),
            severity=Severity(alert.severity),
            status=AlertStatus(alert.status),
            recommended_action=RecommendedAction(alert.action),
            evidence_event_id=strawberry.ID(str(alert.evidence_event_id)) if alert.evidence_event_id else None,
            raised_at=alert.raised_at,
            updated_at=alert.updated_at,
            resolved_at=alert.resolved_at,
            note=alert.note,
        )


@strawberry.type
class AlertConnection:
    edges: list[Edge[Alert]]
    page_info: PageInfo


@strawberry.type(name="RfmScore")
class Rfm:
    recency: int
    frequency: int
    monetary: int
    segment: RfmSegment

    @classmethod
    def from_domain(cls, rfm: values.Rfm) -> Rfm:
        return cls(recency=rfm.recency, frequency=rfm.frequency, monetary=rfm.monetary, segment=RfmSegment(rfm.segment))


@strawberry.type
class Reason:
    kind: ReasonKind
    code: str
    text: str | None
    at: datetime

    @classmethod
    def from_domain(cls, reason: reasons.Reason) -> Reason:
        return cls(kind=ReasonKind(reason.kind), code=reason.code, text=reason.text, at=reason.at)


@strawberry.type
class ReasonCode:
    kind: ReasonKind
    code: str
    label: str

    @classmethod
    def from_domain(cls, code: reasons.ReasonCode) -> ReasonCode:
        return cls(kind=ReasonKind(code.kind), code=code.code, label=code.label)


@strawberry.type
class ReasonShare:
    code: str
    count: int
    share: float


@strawberry.type
class FunnelStep:
    stage: str
    entered: int
    conversion_to_next: float | None = strawberry.field(description="Share of those who entered that reached the next stage.")
    median_days_in_stage: float | None

    @classmethod
    def from_domain(cls, step: analytics.FunnelStep) -> FunnelStep:
        return cls(stage=step.stage, entered=step.entered, conversion_to_next=step.conversion_to_next,
                   median_days_in_stage=step.median_days_in_stage)


@strawberry.type
class CohortPoint:
    months_after: int
    active: float | None
    churned: float | None
    reactivated: float | None


@strawberry.type
class Cohort:
    month: str
    customers: int
    points: list[CohortPoint]

    @classmethod
    def from_domain(cls, cohort: analytics.Cohort) -> Cohort:
        points = [CohortPoint(months_after=p.months_after, active=p.active, churned=p.churned,
                              reactivated=p.reactivated) for p in cohort.points]
        return cls(month=cohort.month, customers=cohort.customers, points=points)


@strawberry.type
class MonthlyRate:
    month: str
    base: int = strawberry.field(description="Customers who could: active (churn) or churned (reactivation) at the month's start.")
    events: int
    rate: float | None


@strawberry.type
class ChannelShare:
    channel: str
    count: int
    share: float


@strawberry.type
class AcquisitionMonth:
    month: str
    total: int
    channels: list[ChannelShare]

    @classmethod
    def from_domain(cls, mix: analytics.MonthMix) -> AcquisitionMonth:
        return cls(month=mix.month, total=mix.total,
                   channels=[ChannelShare(channel=c.channel, count=c.count, share=c.share) for c in mix.channels])


@strawberry.type
class LifecycleConfig:
    churn_horizon_days: float
    retention_tenure_days: float
    retention_min_purchases: int
    reactivated_days: float
    negative_survey_max_score: int
    inactivity_gap_multiplier: float
    inactivity_floor_days: float
    alert_lookback_days: float
    alert_ttl_days: float
    rfm_window_days: float
    tier_platinum_share: float
    tier_gold_share: float
    tier_silver_share: float

    @classmethod
    def from_domain(cls, config: ConfigValue) -> LifecycleConfig:
        return cls(**config.as_dict())


@strawberry.type
class RecomputeSummary:
    customers: int
    moved: int
    alerts_raised: int
    alerts_resolved: int
    alerts_expired: int

    @classmethod
    def from_domain(cls, outcome: values.RefreshOutcome) -> RecomputeSummary:
        return cls(customers=outcome.customers, moved=outcome.moved, alerts_raised=len(outcome.raised),
                   alerts_resolved=outcome.resolved, alerts_expired=outcome.expired)
