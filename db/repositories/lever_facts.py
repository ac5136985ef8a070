"""Where the lever reports' sums come from: the rollup of settled decisions and the live log.

Each source is a SELECT of the report's keys (a subset of ``day``, ``customer_id``,
``campaign_id``, always ``lever_key``) and the six sums (db.repositories.lever_rollup.SUMS), the
live ones grouped by those keys; the reports add up a UNION ALL of sources that never count a
decision, an outcome or an activation twice:

- ``days`` and ``customers``: the rollup's sums per UTC day or per customer, which count the
  decisions up to the decision watermark and their outcomes up to the outcome watermark;
- ``live``: decisions joined to their outcomes, optionally only those above the decision watermark;
- ``answered_since``: the outcomes above the outcome watermark of decisions at or below the other;
- ``activated_since``: the activations of decisions the rollup saw unactivated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select
from sqlalchemy.sql.elements import KeyedColumnElement

from db.models import Customer, CustomerScores, Decision, LeverCustomerSums, LeverDaySums, LeverUnactivatedDecision, Outcome
from db.models import Segment, SegmentMember
from db.models.lever_rollup import NO_CAMPAIGN
from db.repositories.lever_rollup import SUMS, Watermark, day_of, earned, still_unactivated

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


def _decision_terms(scope: LogScope) -> list[ColumnElement[bool]]:
    terms = [Decision.campaign_id == scope.campaign_id] if scope.campaign_id is not None else []
    return terms + customer_terms(scope, Decision.customer_id)


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
    terms = [Decision.decision_point_id == scope.point_id, *_between(Decision.created_at, start, end),
             *_decision_terms(scope)]
    joined = Outcome.decision_id == Decision.id
    if above is not None:
        terms.append(Decision.id > above)
        # Spelled out for the join too: PostgreSQL then reads those outcomes by range instead of
        # hashing the whole table.
        joined = and_(joined, Outcome.decision_id > above)
    source = Decision.__table__.outerjoin(Outcome.__table__, joined)
    return _grouped(keys, columns, sums, source, terms)


def answered_since(
    scope: LogScope, keys: tuple[str, ...], dialect: str, start: datetime | None, end: datetime | None, marks: Watermark
) -> Select[Any]:
    """Outcomes above the outcome watermark of decisions at or below the decision watermark."""
    columns = {"day": day_of(Decision.created_at, dialect), "customer_id": Decision.customer_id,
               "campaign_id": Decision.campaign_id, "lever_key": Decision.lever_key}
    gain = earned(Outcome.accepted, Outcome.revenue)
    sums = [literal(0), literal(0), func.count(), func.sum(case((Outcome.accepted, 1), else_=0)), func.sum(gain),
            func.sum(gain * gain)]
    terms = [Outcome.decision_point_id == scope.point_id, Outcome.id > marks.outcome_id,
             Decision.id <= marks.decision_id, *_between(Decision.created_at, start, end), *_decision_terms(scope)]
    source = Outcome.__table__.join(Decision.__table__, Decision.id == Outcome.decision_id)
    return _grouped(keys, columns, sums, source, terms)


def activated_since(
    scope: LogScope, keys: tuple[str, ...], dialect: str, start: datetime | None, end: datetime | None
) -> Select[Any]:
    """Activations of the decisions the rollup saw unactivated."""
    waiting = LeverUnactivatedDecision
    columns = {"day": day_of(waiting.created_at, dialect), "customer_id": waiting.customer_id,
               "campaign_id": waiting.campaign_id, "lever_key": waiting.lever_key}
    sums = [literal(0), func.count(), literal(0), literal(0), literal(0.0), literal(0.0)]
    terms = [waiting.decision_point_id == scope.point_id, ~still_unactivated(scope.point_id, waiting.decision_id),
             *_between(waiting.created_at, start, end)]
    if scope.campaign_id is not None:
        terms.append(waiting.campaign_id == scope.campaign_id)
    terms += customer_terms(scope, waiting.customer_id)
    return _grouped(keys, columns, sums, waiting.__table__, terms)


def _rolled(model: Any, scope: LogScope, keys: tuple[str, ...], extra: dict[str, Any], terms: list[Any]) -> Select[Any]:
    columns = {"campaign_id": func.nullif(model.campaign, NO_CAMPAIGN), "lever_key": model.lever_key, **extra}
    terms = [model.decision_point_id == scope.point_id, *terms]
    if scope.campaign_id is not None:
        terms.append(model.campaign == scope.campaign_id)
    # Not regrouped: the report groups the union anyway, and hashing 200,000 customer rows twice
    # cost more than the rest of the query.
    return select(*(columns[key].label(key) for key in keys), *(getattr(model, name) for name in SUMS)).where(*terms)


def days(scope: LogScope, keys: tuple[str, ...], first: date | None, last: date | None) -> Select[Any]:
    """The rollup per day, for the days in [first, last) (``day`` is a key, ``customer_id`` is not)."""
    return _rolled(LeverDaySums, scope, keys, {"day": LeverDaySums.day}, _between(LeverDaySums.day, first, last))


def customers(scope: LogScope, keys: tuple[str, ...]) -> Select[Any]:
    """The rollup per customer (``customer_id`` may be a key, ``day`` may not)."""
    extra: dict[str, KeyedColumnElement[Any]] = {"customer_id": LeverCustomerSums.customer_id}
    return _rolled(LeverCustomerSums, scope, keys, extra, customer_terms(scope, LeverCustomerSums.customer_id))
