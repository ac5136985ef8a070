"""Rule segments: a JSON rule tree compiled to a SQL WHERE clause over customers, metrics and scores.

A rule is ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": rule}`` or a leaf
``{"field": ..., "op": ..., "value": ...}``. Event leaves (``events.count``, ``events.sum``) also
take ``eventType`` and optionally ``withinDays``. An invalid rule raises InvalidInput whose field is
the path of the bad node, e.g. ``rule.all[2].op``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, not_, or_, select

from db.base import UtcDateTime
from db.models import Alert, Customer, CustomerMetrics, CustomerReason, CustomerScores, Event
from db.repositories.lifecycle import epoch_days
from services.domain import CHANNELS, EVENT_TYPES, STAGES
from services.errors import InvalidInput
from services.lifecycle.scores import RFM_SEGMENTS, TIERS

OPS = ("EQ", "NEQ", "IN", "GT", "GTE", "LT", "LTE", "CONTAINS", "IS_NULL")
ALERT_TYPES = ("NEGATIVE_SURVEY", "COMPLAINT", "CANCELLATION_REQUEST", "INACTIVITY")
MAX_DEPTH = 10
MAX_NODES = 200
_ATTRIBUTE = re.compile(r"^attributes\.([A-Za-z0-9_\-]{1,64})$")


@dataclass(frozen=True, slots=True)
class _Field:
    kind: str  # "text", "number" or "enum"
    column: Callable[[str, datetime], Any]
    choices: tuple[str, ...] = ()


def _days_since(column: Any) -> Callable[[str, datetime], Any]:
    return lambda dialect, now: epoch_days(literal(now, UtcDateTime()), dialect) - epoch_days(column, dialect)


def _referrals() -> Any:
    referred = Customer.__table__.alias("referred")
    return select(func.count()).where(referred.c.referred_by_id == Customer.id).scalar_subquery()


def _churn_reason() -> Any:
    return (
        select(CustomerReason.code)
        .where(CustomerReason.customer_id == Customer.id, CustomerReason.kind == "CHURN")
        .order_by(CustomerReason.at.desc(), CustomerReason.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _open_alert_count() -> Any:
    active = Alert.status.in_(("OPEN", "ACTIONED"))
    return select(func.count(Alert.id)).where(Alert.customer_id == Customer.id, active).scalar_subquery()


FIELDS: dict[str, _Field] = {
    "externalId": _Field("text", lambda d, n: Customer.external_id),
    "name": _Field("text", lambda d, n: Customer.name),
    "email": _Field("text", lambda d, n: Customer.email),
    "phone": _Field("text", lambda d, n: Customer.phone),
    "region": _Field("text", lambda d, n: Customer.region),
    "acquisitionChannel": _Field("enum", lambda d, n: Customer.acquisition_channel, CHANNELS),
    "stage": _Field("enum", lambda d, n: Customer.stage, STAGES),
    "rfm.recency": _Field("number", lambda d, n: CustomerScores.recency),
    "rfm.frequency": _Field("number", lambda d, n: CustomerScores.frequency),
    "rfm.monetary": _Field("number", lambda d, n: CustomerScores.monetary),
    "rfm.segment": _Field("enum", lambda d, n: CustomerScores.rfm_segment, RFM_SEGMENTS),
    "valueTier": _Field("enum", lambda d, n: func.coalesce(CustomerScores.value_tier, "BRONZE"), TIERS),
    "tenureDays": _Field("number", _days_since(CustomerMetrics.first_purchase_at)),
    "customerDays": _Field("number", _days_since(Customer.created_at)),
    "daysSinceLastPurchase": _Field("number", _days_since(CustomerMetrics.last_purchase_at)),
    "purchaseCount": _Field("number", lambda d, n: func.coalesce(CustomerMetrics.purchase_count, 0)),
    "monetaryTotal": _Field("number", lambda d, n: func.coalesce(CustomerMetrics.monetary_total, 0)),
    "purchaseRhythmDays": _Field("number", lambda d, n: CustomerMetrics.median_gap_days),
    "lastSurveyScore": _Field("number", lambda d, n: CustomerMetrics.last_survey_score),
    "referralCount": _Field("number", lambda d, n: _referrals()),
    "churnReason": _Field("text", lambda d, n: _churn_reason()),
    "openAlerts": _Field("number", lambda d, n: _open_alert_count()),
}
EVENT_FIELDS = ("events.count", "events.sum")
ALERT_FIELD = "alerts.open"


def field_names() -> list[str]:
    return [*FIELDS, "attributes.<name>", *EVENT_FIELDS, ALERT_FIELD]


def compile_rule(rule: Any, *, dialect: str, now: datetime, path: str = "rule") -> ColumnElement[bool]:
    """The WHERE clause for ``rule``; raises InvalidInput naming the bad node's path."""
    counter = [0]
    return _node(rule, path, dialect, now, 0, counter)


def validate(rule: Any, path: str = "rule") -> None:
    """Check a rule without a database: compiles it for both dialects."""
    now = datetime(2000, 1, 1, tzinfo=UTC)
    for dialect in ("sqlite", "postgresql"):
        compile_rule(rule, dialect=dialect, now=now, path=path)


def _node(rule: Any, path: str, dialect: str, now: datetime, depth: int, counter: list[int]) -> ColumnElement[bool]:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise InvalidInput(path, f"a rule has at most {MAX_NODES} nodes")
    if depth > MAX_DEPTH:
        raise InvalidInput(path, f"rules nest at most {MAX_DEPTH} levels")
    if not isinstance(rule, dict):
        raise InvalidInput(path, "must be an object: {all: [...]}, {any: [...]}, {not: ...} or a leaf")
    combinators = [key for key in ("all", "any", "not") if key in rule]
    if combinators:
        if len(rule) != 1:
            raise InvalidInput(path, f"a {combinators[0]!r} node takes no other keys")
        key = combinators[0]
        if key == "not":
            return not_(_node(rule["not"], f"{path}.not", dialect, now, depth + 1, counter))
        children = rule[key]
        if not isinstance(children, list) or not children:
            raise InvalidInput(f"{path}.{key}", "must be a non-empty list of rules")
        parts = [_node(c, f"{path}.{key}[{i}]", dialect, now, depth + 1, counter) for i, c in enumerate(children)]
        return and_(*parts) if key == "all" else or_(*parts)
    return _leaf(rule, path, dialect, now)


def _leaf(rule: dict[str, Any], path: str, dialect: str, now: datetime) -> ColumnElement[bool]:
    allowed = {"field", "op", "value", "eventType", "withinDays"}
    for key in rule:
        if key not in allowed:
            raise InvalidInput(f"{path}.{key}", "unknown key; a leaf has field, op, value (eventType, withinDays)")
    name = rule.get("field")
    if not isinstance(name, str):
        raise InvalidInput(f"{path}.field", "is required: one of " + ", ".join(field_names()))
    op = rule.get("op")
    if op not in OPS:
        raise InvalidInput(f"{path}.op", f"must be one of {', '.join(OPS)}, got {op!r}")
    value = rule.get("value")
    if name in EVENT_FIELDS:
        column: Any = _event_aggregate(rule, path, name, now)
        return _compare(column, "number", (), op, value, path)
    if name == ALERT_FIELD:
        return _open_alerts(op, value, path)
    match = _ATTRIBUTE.match(name)
    if match:
        return _attribute(match.group(1), op, value, path, dialect)
    spec = FIELDS.get(name)
    if spec is None:
        raise InvalidInput(f"{path}.field", f"unknown field {name!r}; one of " + ", ".join(field_names()))
    return _compare(spec.column(dialect, now), spec.kind, spec.choices, op, value, path)


def _compare(column: Any, kind: str, choices: tuple[str, ...], op: str, value: Any, path: str) -> ColumnElement[bool]:
    if op == "IS_NULL":
        if value is None:
            value = True
        if not isinstance(value, bool):
            raise InvalidInput(f"{path}.value", "IS_NULL takes true or false")
        return column.is_(None) if value else column.is_not(None)
    if op == "IN":
        if not isinstance(value, list) or not value:
            raise InvalidInput(f"{path}.value", "IN takes a non-empty list")
        for i, item in enumerate(value):
            _check_value(item, kind, choices, f"{path}.value[{i}]")
        return column.in_(value)
    if op == "CONTAINS":
        if kind != "text" or not isinstance(value, str):
            raise InvalidInput(f"{path}.op", "CONTAINS applies to text fields with a string value")
        return func.lower(column).contains(value.lower(), autoescape=True)
    _check_value(value, kind, choices, f"{path}.value")
    if op in ("GT", "GTE", "LT", "LTE") and kind == "enum":
        raise InvalidInput(f"{path}.op", f"{op} does not apply to a field with named values")
    return {
        "EQ": lambda: column == value,
        "NEQ": lambda: or_(column != value, column.is_(None)),
        "GT": lambda: column > value,
        "GTE": lambda: column >= value,
        "LT": lambda: column < value,
        "LTE": lambda: column <= value,
    }[op]()


def _check_value(value: Any, kind: str, choices: tuple[str, ...], path: str) -> None:
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(path, f"must be a number, got {value!r}")
    elif not isinstance(value, str):
        raise InvalidInput(path, f"must be a string, got {value!r}")
    elif kind == "enum" and value not in choices:
        raise InvalidInput(path, f"unknown value {value!r}; one of {', '.join(choices)}")


def _event_aggregate(rule: dict[str, Any], path: str, name: str, now: datetime) -> Any:
    event_type = rule.get("eventType")
    if event_type not in EVENT_TYPES:
        raise InvalidInput(f"{path}.eventType", f"must be one of {', '.join(EVENT_TYPES)}, got {event_type!r}")
    within = rule.get("withinDays")
    terms = [Event.customer_id == Customer.id, Event.type == event_type]
    if within is not None:
        if isinstance(within, bool) or not isinstance(within, (int, float)) or within <= 0:
            raise InvalidInput(f"{path}.withinDays", f"must be a number > 0, got {within!r}")
        terms.append(Event.occurred_at >= now - timedelta(days=within))
    measure = func.count() if name == "events.count" else func.coalesce(func.sum(Event.amount), 0)
    return select(measure).where(*terms).scalar_subquery()


def _open_alerts(op: str, value: Any, path: str) -> ColumnElement[bool]:
    if op == "IS_NULL":
        none_open = ~select(Alert.id).where(Alert.customer_id == Customer.id, Alert.status.in_(("OPEN", "ACTIONED"))).exists()
        return none_open if value in (None, True) else not_(none_open)
    types = value if op == "IN" else [value]
    if op not in ("CONTAINS", "EQ", "IN") or not isinstance(types, list) or not types:
        raise InvalidInput(f"{path}.op", "alerts.open takes CONTAINS (or IN, IS_NULL) with alert types")
    for i, item in enumerate(types):
        if item not in ALERT_TYPES:
            where = f"{path}.value[{i}]" if op == "IN" else f"{path}.value"
            raise InvalidInput(where, f"unknown alert type {item!r}; one of {', '.join(ALERT_TYPES)}")
    return select(Alert.id).where(
        Alert.customer_id == Customer.id, Alert.status.in_(("OPEN", "ACTIONED")), Alert.type.in_(types)
    ).exists()


def _attribute(key: str, op: str, value: Any, path: str, dialect: str) -> ColumnElement[bool]:
    element = Customer.attributes[key]
    if op == "IS_NULL":
        return _compare(element.as_string(), "text", (), op, value, path)
    sample = value[0] if op == "IN" and isinstance(value, list) and value else value
    if isinstance(sample, bool):
        kind, column, json_kinds = "bool", element.as_boolean(), ("boolean",) if dialect == "postgresql" else ("true", "false")
    elif isinstance(sample, (int, float)):
        kind, column, json_kinds = "number", element.as_float(), ("number",) if dialect == "postgresql" else ("integer", "real")
    elif isinstance(sample, str):
        kind, column, json_kinds = "text", element.as_string(), ("string",) if dialect == "postgresql" else ("text",)
    else:
        raise InvalidInput(f"{path}.value", f"must be a number, string or boolean, got {value!r}")
    # Only compare values of the right JSON type: a cast of "abc" to a number would fail on PostgreSQL.
    if dialect == "postgresql":
        typed = func.jsonb_typeof(element).in_(json_kinds)
    else:
        typed = func.json_type(Customer.attributes, f'$."{key}"').in_(json_kinds)
    if kind == "bool":
        if op not in ("EQ", "NEQ") or not isinstance(value, bool):
            raise InvalidInput(f"{path}.op", "boolean attributes take EQ or NEQ with true or false")
        return and_(typed, column == value) if op == "EQ" else or_(~typed, column != value)
    compared = _compare(column, "number" if kind == "number" else "text", (), op, value, path)
    return and_(typed, compared) if op != "NEQ" else or_(~typed, compared)


