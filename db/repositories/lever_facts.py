"""Where the lever reports' sums come from: the rollup of settled decisions and the live log.

Each source is a SELECT of the report's keys (a subset of ``day``, ``customer_id``,
``campaign_id``, always ``lever_key``) and the six sums (db.repositories.lever_rollup.SUMS), grouped
by those keys; the reports add up a UNION ALL of sources that never count a decision twice:

- ``live``: decisions joined to their outcomes, optionally only those above the decision watermark;
- ``open``: the decisions at or below the watermark that had no outcome then, with any outcome
  they got since (above the outcome watermark) and their activation as it is now;
- ``days`` and ``customers``: the rollup's sums per UTC day or per customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.sql.elements import KeyedColumnElement

from db.models import Customer, CustomerScores, Decision, LeverCustomerSums, LeverDaySums, LeverOpenDecision, Outcome
from db.models import Segment, SegmentMember
from db.models.lever_rollup import NO_CAMPAIGN
from db.repositories.lever_rollup import SUMS, Watermark, day_of, earned

DEFAULT_TIER = "BRONZE"  # customers without scores (prospects) are BRONZE, as in the lifecycle
KEYS = ("day", "customer_id", "campaign_id", "lever_key")


@dataclass(frozen=True, slots=True)
class LogScope:
    """Which decisions of one decision point a report reads. ``start`` inclusive, ``end`` exclusive,
    both on the decision's creation time; customer filters use the customer's current state."""

    point_id: int
    start: datetime | None = None
    end: datetime | None = None
    segment_key: str | None = None
    stage: str | None = None
    value_tier: str | None = None
    campaign_id: int | None = None

    @property
    def timed(self) -> bool:
        return self.start is not None or self.end is not None

    @property
    def by_customer(self) -> bool:
        return self.segment_key is not None or self.stage is not None or self.value_tier is not None


def customer_terms(scope: LogScope, customer_id: Any) -> list[ColumnElement[bool]]:
    """The scope's filters on the customer's current segment, stage and value tier."""
    terms: list[ColumnElement[bool]] = []
    if scope.segment_key is not None:
        members = (
            select(SegmentMember.customer_id)
            .join(Segment, Segment.id == SegmentMember.segment_id)
            .where(Segment.key == scope.segment_key)
        )
        terms.append(customer_id.in_(members))
    if scope.stage is not None:
        terms.append(customer_id.in_(select(Customer.id).where(Customer.stage == scope.stage)))
    if scope.value_tier is not None:
        tier = func.coalesce(CustomerScores.value_tier, literal(DEFAULT_TIER))
        tiered = select(Customer.id).outerjoin(CustomerScores, CustomerScores.customer_id == Customer.id)
        terms.append(customer_id.in_(tiered.where(tier == scope.value_tier)))
    return terms


def _between(column: Any, start: Any, end: Any) -> list[ColumnElement[bool]]:
    return [term for term in (column >= start if start is not None else None,
                              column < end if end is not None else None) if term is not None]


def _grouped(keys: tuple[str, ...], columns: dict[str, Any], sums: list[Any], source: Any, terms: list[Any]) -> Select[Any]:
    picked = [columns[key].label(key) for key in keys]
    return select(*picked, *(s.label(name) for s, name in zip(sums, SUMS, strict=True))).select_from(source).where(
        and_(*terms)
    ).group_by(*(columns[key] for key in keys))


def live(
    scope: LogScope, keys: tuple[str, ...], dialect: str, start: datetime | None, end: datetime | None,
    above: int | None = None,
) -> Select[Any]:
    """Decisions created in [start, end) (above the decision id ``above`` when given) with their outcomes."""
    columns = {"day": day_of(Decision.created_at, dialect), "customer_id": Decision.customer_id,
               "campaign_id": Decision.campaign_id, "lever_key": Decision.lever_key}
    gain = earned(Outcome.accepted, Outcome.revenue)
    sums = [func.count(Decision.id), func.count(Decision.activated_at), func.count(Outcome.id),
            func.sum(case((Outcome.accepted, 1), else_=0)), func.sum(gain), func.sum(gain * gain)]
    terms = [Decision.decision_point_id == scope.point_id, *_between(Decision.created_at, start, end)]
    if above is not None:
        terms.append(Decision.id > above)
    if scope.campaign_id is not None:
        terms.append(Decision.campaign_id == scope.campaign_id)
    terms += customer_terms(scope, Decision.customer_id)
    source = Decision.__table__.outerjoin(Outcome.__table__, Outcome.decision_id == Decision.id)
    return _grouped(keys, columns, sums, source, terms)


def open_decisions(
    scope: LogScope, keys: tuple[str, ...], dialect: str, start: datetime | None, end: datetime | None, marks: Watermark
) -> Select[Any]:
    """The rollup's open decisions created in [start, end), with outcomes recorded after it read them."""
    open_ = LeverOpenDecision
    later = (
        select(Outcome.id, Outcome.decision_id, Outcome.accepted, Outcome.revenue)
        .where(Outcome.decision_point_id == scope.point_id, Outcome.id > marks.outcome_id)
        .subquery("later")
    )
    columns = {"day": day_of(open_.created_at, dialect), "customer_id": open_.customer_id,
               "campaign_id": open_.campaign_id, "lever_key": open_.lever_key}
    since = exists().where(Decision.id == open_.decision_id, Decision.activated_at.is_not(None))
    activated = case((or_(open_.activated_at.is_not(None), since), 1))
    gain = earned(later.c.accepted, later.c.revenue)
    sums = [func.count(), func.count(activated), func.count(later.c.id),
            func.sum(case((later.c.accepted, 1), else_=0)), func.sum(gain), func.sum(gain * gain)]
    terms = [open_.decision_point_id == scope.point_id, *_between(open_.created_at, start, end)]
    if scope.campaign_id is not None:
        terms.append(open_.campaign_id == scope.campaign_id)
    terms += customer_terms(scope, open_.customer_id)
    source = open_.__table__.outerjoin(later, later.c.decision_id == open_.decision_id)
    return _grouped(keys, columns, sums, source, terms)


def _rolled(model: Any, scope: LogScope, keys: tuple[str, ...], extra: dict[str, Any], terms: list[Any]) -> Select[Any]:
    columns = {"campaign_id": func.nullif(model.campaign, NO_CAMPAIGN), "lever_key": model.lever_key, **extra}
    sums = [func.sum(getattr(model, name)) for name in SUMS]
    terms = [model.decision_point_id == scope.point_id, *terms]
    if scope.campaign_id is not None:
        terms.append(model.campaign == scope.campaign_id)
    return _grouped(keys, columns, sums, model.__table__, terms)


def days(scope: LogScope, keys: tuple[str, ...], first: date | None, last: date | None) -> Select[Any]:
    """The rollup per day, for the days in [first, last) (``day`` is a key, ``customer_id`` is not)."""
    return _rolled(LeverDaySums, scope, keys, {"day": LeverDaySums.day}, _between(LeverDaySums.day, first, last))


def customers(scope: LogScope, keys: tuple[str, ...]) -> Select[Any]:
    """The rollup per customer (``customer_id`` may be a key, ``day`` may not)."""
    extra: dict[str, KeyedColumnElement[Any]] = {"customer_id": LeverCustomerSums.customer_id}
    return _rolled(LeverCustomerSums, scope, keys, extra, customer_terms(scope, LeverCustomerSums.customer_id))
