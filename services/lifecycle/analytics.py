"""Lifecycle analytics: funnel, cohorts, churn and reactivation rates, acquisition mix, referrers.

Every figure is an aggregate query over customers, metrics and the stage history; per-customer
durations for the funnel medians come back in one query and are reduced with numpy.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import analytics as repo
from db.repositories import customers as customer_repo
from services import mapping
from services.domain import Customer
from services.errors import InvalidInput
from services.lifecycle.service import Clock

FUNNEL = ("AWARENESS", "ACQUISITION", "CONVERSION", "GROWTH", "RETENTION")
COHORT_OFFSETS = (1, 3, 6, 12)
MAX_MONTHS = 60


@dataclass(frozen=True, slots=True)
class FunnelStep:
    stage: str
    entered: int
    conversion_to_next: float | None
    median_days_in_stage: float | None


@dataclass(frozen=True, slots=True)
class CohortPoint:
    months_after: int
    active: float | None
    churned: float | None
    reactivated: float | None


@dataclass(frozen=True, slots=True)
class Cohort:
    month: str
    customers: int
    points: tuple[CohortPoint, ...]


@dataclass(frozen=True, slots=True)
class MonthlyRate:
    month: str
    base: int
    events: int
    rate: float | None


@dataclass(frozen=True, slots=True)
class ChannelShare:
    channel: str
    count: int
    share: float


@dataclass(frozen=True, slots=True)
class MonthMix:
    month: str
    total: int
    channels: tuple[ChannelShare, ...]


@dataclass(frozen=True, slots=True)
class Referrer:
    customer: Customer
    referrals: int
    conversions: int


def _epoch_days(values: list[datetime | None]) -> np.ndarray:
    return np.array([v.timestamp() / 86400.0 if v is not None else np.nan for v in values], dtype=float)


class Analytics:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessionmaker
        self._clock = clock

    async def funnel(self, start: datetime | None, end: datetime | None, segment_key: str | None) -> list[FunnelStep]:
        """For customers created in [start, end): how many reached each forward stage, the share
        that went on to the next one, and the median days spent before moving on."""
        async with self._sessions() as session:
            rows = await repo.milestones(session, start, end, segment_key)
        created = _epoch_days([r.created_at for r in rows])
        signup = _epoch_days([r.signup_at for r in rows])
        contact = np.where(np.array([bool(r.has_contact) for r in rows], dtype=bool), created, np.nan)
        first = _epoch_days([r.first_purchase_at for r in rows])
        second = _epoch_days([r.second_purchase_at for r in rows])
        retained = _epoch_days([r.retained_at for r in rows])
        with np.errstate(all="ignore"):
            acquired = np.fmin(np.fmin(signup, contact), first)
        reached = [created, acquired, first, second, retained]
        steps = []
        for i, stage in enumerate(FUNNEL):
            here = reached[i]
            entered = int(np.count_nonzero(~np.isnan(here)))
            conversion = median = None
            if i + 1 < len(reached):
                nxt = reached[i + 1]
                moved = ~np.isnan(here) & ~np.isnan(nxt)
                conversion = float(np.count_nonzero(moved)) / entered if entered else None
                if moved.any():
                    median = float(np.median(np.maximum(nxt[moved] - here[moved], 0.0)))
            steps.append(FunnelStep(stage, entered, conversion, median))
        return steps

    async def cohorts(self) -> list[Cohort]:
        """Per acquisition month, the share active, churned or reactivated 1, 3, 6 and 12 months on
        (read from the stage history; null where that moment is still in the future)."""
        async with self._sessions() as session:
            rows = await repo.cohort_states(session, COHORT_OFFSETS, self._clock())
        cohorts = []
        for row in rows:
            points = []
            for k in COHORT_OFFSETS:
                due = getattr(row, f"due_{k}") or 0

                def share(name: str) -> float | None:
                    return (getattr(row, f"{name}_{k}") or 0) / due if due else None

                points.append(CohortPoint(k, share("active"), share("churned"), share("reactivated")))
            cohorts.append(Cohort(row.cohort, int(row.customers), tuple(points)))
        return cohorts

    async def churn_rate(self, start: datetime, end: datetime, segment_key: str | None) -> list[MonthlyRate]:
        """Per month: customers who churned / customers active at the start of the month."""
        return await self._rate("CHURNED", repo.ACTIVE_STAGES, start, end, segment_key)

    async def reactivation_rate(self, start: datetime, end: datetime, segment_key: str | None) -> list[MonthlyRate]:
        """Per month: churned customers who came back / customers churned at the start of the month."""
        return await self._rate("REACTIVATED", ("CHURNED",), start, end, segment_key)

    async def _rate(
        self, stage: str, base_stages: tuple[str, ...], start: datetime, end: datetime, segment_key: str | None
    ) -> list[MonthlyRate]:
        months = _months(start, end)
        async with self._sessions() as session:
            entries = await repo.entries_by_month(session, stage, months[0][1], months[-1][2], segment_key)
            rates = []
            # One aggregate per month (at most MAX_MONTHS), never one query per customer.
            for label, month_start, _ in months:
                base = await repo.count_in_stages_at(session, base_stages, month_start, segment_key)
                n = entries.get(label, 0)
                rates.append(MonthlyRate(label, base, n, n / base if base else None))
        return rates

    async def acquisition_mix(self, start: datetime | None, end: datetime | None) -> list[MonthMix]:
        """The share of new customers by acquisition channel, per cohort month."""
        async with self._sessions() as session:
            rows = await repo.acquisition_mix(session, start, end)
        by_month: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for month, channel, n in rows:
            by_month[month].append((channel, int(n)))
        mixes = []
        for month, channels in sorted(by_month.items()):
            total = sum(n for _, n in channels)
            shares = tuple(ChannelShare(c, n, n / total) for c, n in sorted(channels, key=lambda x: -x[1]))
            mixes.append(MonthMix(month, total, shares))
        return mixes

    async def referral_counts(self, customer_ids: list[int]) -> dict[int, tuple[int, int]]:
        """(referrals, of whom bought) per referrer, for the customer view's loader."""
        async with self._sessions() as session:
            return await repo.referral_counts(session, list(set(customer_ids)))

    async def top_referrers(self, first: int) -> list[Referrer]:
        if not 1 <= first <= 100:
            raise InvalidInput("first", f"must be between 1 and 100, got {first}")
        async with self._sessions() as session:
            ranked = await repo.top_referrers(session, first)
            rows = {r.id: r for r in await customer_repo.by_ids(session, [rid for rid, _, _ in ranked])}
        return [
            Referrer(mapping.customer(rows[rid]), n, c) for rid, n, c in ranked if rid in rows
        ]


def _months(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("from", "dates must carry a time zone")
    if end <= start:
        raise InvalidInput("to", "must be after `from`")
    y, m = start.astimezone(UTC).year, start.astimezone(UTC).month
    months = []
    while True:
        begin = datetime(y, m, 1, tzinfo=UTC)
        if begin >= end:
            break
        y2, m2 = (y + 1, 1) if m == 12 else (y, m + 1)
        months.append((f"{y:04d}-{m:02d}", begin, datetime(y2, m2, 1, tzinfo=UTC)))
        y, m = y2, m2
        if len(months) > MAX_MONTHS:
            raise InvalidInput("from", f"at most {MAX_MONTHS} months per call")
    return months
