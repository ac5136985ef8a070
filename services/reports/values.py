"""Frozen report values passed from the reports services to the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.reports.intervals import Estimate


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """``start`` inclusive and ``end`` exclusive on the decision's time; ``segment_key``, ``stage``
    and ``value_tier`` select customers by their current state; ``campaign_id`` by the decision's."""

    start: datetime | None = None
    end: datetime | None = None
    segment_key: str | None = None
    stage: str | None = None
    value_tier: str | None = None
    campaign_id: int | None = None


@dataclass(frozen=True, slots=True)
class Uplift:
    """A lever minus the pooled NO_ACTION control group, with 95% intervals."""

    accept_rate: Estimate
    revenue_per_decision: Estimate
    control_outcomes: int


@dataclass(frozen=True, slots=True)
class LeverPerformance:
    lever: str
    kind: str | None
    decisions: int
    activated: int
    outcomes: int
    accepted: int
    accept_rate: Estimate
    revenue: float
    revenue_per_decision: Estimate
    cost: float
    cost_per_decision: Estimate
    net_value: float
    net_value_per_decision: Estimate
    uplift: Uplift | None
    probability_best: float | None

    @property
    def is_control(self) -> bool:
        return self.kind == "NO_ACTION"


@dataclass(frozen=True, slots=True)
class GroupPerformance:
    group: str
    levers: tuple[LeverPerformance, ...]


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    period: date
    lever: str
    decisions: int
    activated: int
    allocation_share: float | None
    outcomes: int
    accepted: int
    accept_rate: float | None
    revenue: float


@dataclass(frozen=True, slots=True)
class AlertCount:
    period: date
    type: str
    raised: int
