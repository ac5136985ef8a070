"""Lever eligibility: rules in the segment rule language, evaluated in memory per decision.

A lever's rule is checked by ``services.lifecycle.segment_rules`` (same fields, ops, values and
error paths, e.g. ``eligibility.all[1].op``) and compiled here into a Python predicate over the fact
row ``decide`` already loads, so eligibility costs no extra query and gives the same answer on
SQLite and PostgreSQL. The predicate follows SQL's three-valued logic exactly as a segment's WHERE
clause would: a comparison with a missing value is unknown, ``not`` keeps unknown, and only a rule
that is true makes a lever eligible.

Besides the segment fields, eligibility rules read ``churnReason``, ``openAlerts`` and the request's
``context.<name>`` values (typed like attributes: compared only when the value has the rule value's
type). ``events.*`` and ``referralCount`` need their own queries and are refused here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.errors import InvalidInput
from services.lifecycle import segment_rules
from services.lifecycle.segment_rules import MAX_DEPTH, MAX_NODES, OPS

Truth = bool | None
Test = Callable[[Any, Mapping[str, Any], datetime], Truth]
UNAVAILABLE = ("events.count", "events.sum", "referralCount")
_MISSING: Any = object()
_CONTEXT = re.compile(r"^context\.([A-Za-z0-9_\-]{1,64})$")


def _days(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else (now - then).total_seconds() / 86_400.0


# fact row -> value, with the same coalescing as the segment SQL
_GETTERS: dict[str, Callable[[Any, datetime], Any]] = {
    "externalId": lambda f, n: f.external_id,
    "name": lambda f, n: f.name,
    "email": lambda f, n: f.email,
    "phone": lambda f, n: f.phone,
    "region": lambda f, n: f.region,
    "acquisitionChannel": lambda f, n: f.acquisition_channel,
    "stage": lambda f, n: f.stage,
    "rfm.recency": lambda f, n: f.recency,
    "rfm.frequency": lambda f, n: f.frequency,
    "rfm.monetary": lambda f, n: f.monetary,
    "rfm.segment": lambda f, n: f.rfm_segment,
    "valueTier": lambda f, n: f.value_tier or "BRONZE",
    "tenureDays": lambda f, n: _days(n, f.first_purchase_at),
    "customerDays": lambda f, n: _days(n, f.created_at),
    "daysSinceLastPurchase": lambda f, n: _days(n, f.last_purchase_at),
    "purchaseCount": lambda f, n: f.purchase_count or 0,
    "monetaryTotal": lambda f, n: float(f.monetary_total or 0),
    "purchaseRhythmDays": lambda f, n: f.median_gap_days,
    "lastSurveyScore": lambda f, n: f.last_survey_score,
    "churnReason": lambda f, n: f._mapping.get("churn_reason"),
    "openAlerts": lambda f, n: f._mapping.get("open_alerts") or 0,
}
assert set(_GETTERS) | set(UNAVAILABLE) == set(segment_rules.FIELDS) | {"events.count", "events.sum"}


@dataclass(frozen=True, slots=True)
class Needs:
    """Optional facts a rule reads (each is a correlated subquery in the fact query)."""

    alerts: bool = False
    churn_reason: bool = False
    alert_types: bool = False

    def __or__(self, other: Needs) -> Needs:
        return Needs(self.alerts or other.alerts, self.churn_reason or other.churn_reason, self.alert_types or other.alert_types)


@dataclass(frozen=True, slots=True)
class EligibilityRule:
    """A checked rule tree and its compiled predicate; ``test`` is True only for eligible rows."""

    tree: dict[str, Any]
    test: Test
    needs: Needs

    @property
    def text(self) -> str:
        return json.dumps(self.tree, separators=(",", ":"), sort_keys=True)

    def allows(self, facts: Any, context: Mapping[str, Any], now: datetime) -> bool:
        return self.test(facts, context, now) is True


def compile_rule(tree: Any, path: str = "eligibility") -> EligibilityRule:
    """Check ``tree`` (InvalidInput names the bad node's path) and compile its predicate."""
    needs: list[Needs] = []
    test = _node(tree, path, 0, [0], needs)
    total = Needs()
    for item in needs:
        total = total | item
    return EligibilityRule(tree, test, total)


def _node(rule: Any, path: str, depth: int, counter: list[int], needs: list[Needs]) -> Test:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise InvalidInput(path, f"a rule has at most {MAX_NODES} nodes")
    if depth > MAX_DEPTH:
        raise InvalidInput(path, f"rules nest at most {MAX_DEPTH} levels")
    if not isinstance(rule, dict):
        raise InvalidInput(path, "must be an object: {all: [...]}, {any: [...]}, {not: ...} or a leaf")
    combinators = [key for key in ("all", "any", "not") if key in rule]
    if not combinators:
        return _leaf(rule, path, needs)
    if len(rule) != 1:
        raise InvalidInput(path, f"a {combinators[0]!r} node takes no other keys")
    key = combinators[0]
    if key == "not":
        inner = _node(rule["not"], f"{path}.not", depth + 1, counter, needs)
        return lambda f, c, n: None if (v := inner(f, c, n)) is None else not v
    children = rule[key]
    if not isinstance(children, list) or not children:
        raise InvalidInput(f"{path}.{key}", "must be a non-empty list of rules")
    parts = [_node(child, f"{path}.{key}[{i}]", depth + 1, counter, needs) for i, child in enumerate(children)]
    return _all(parts) if key == "all" else _any(parts)


def _all(parts: list[Test]) -> Test:
    def test(f: Any, c: Mapping[str, Any], n: datetime) -> Truth:
        unknown = False
        for part in parts:
            value = part(f, c, n)
            if value is False:
                return False
            unknown = unknown or value is None
        return None if unknown else True

    return test


def _any(parts: list[Test]) -> Test:
    def test(f: Any, c: Mapping[str, Any], n: datetime) -> Truth:
        unknown = False
        for part in parts:
            value = part(f, c, n)
            if value is True:
                return True
            unknown = unknown or value is None
        return None if unknown else False

    return test


def _leaf(rule: dict[str, Any], path: str, needs: list[Needs]) -> Test:
    name = rule.get("field")
    if isinstance(name, str) and name in UNAVAILABLE:
        raise InvalidInput(f"{path}.field", f"{name} is not available in eligibility rules")
    context = _CONTEXT.match(name) if isinstance(name, str) else None
    if context:
        # validated like an attribute leaf: same ops, same value checks, same paths
        segment_rules.validate({**rule, "field": f"attributes.{context.group(1)}"}, path)
        key = context.group(1)
        return _typed(lambda f, c, n: c.get(key, _MISSING), rule["op"], rule.get("value"))
    segment_rules.validate(rule, path)
    op, value = rule["op"], rule.get("value")
    if name == segment_rules.ALERT_FIELD:
        needs.append(Needs(alert_types=True))
        return _open_alerts(op, value)
    if name.startswith("attributes."):
        key = name.removeprefix("attributes.")
        return _typed(lambda f, c, n: (f.attributes or {}).get(key, _MISSING), op, value)
    if name == "churnReason":
        needs.append(Needs(churn_reason=True))
    elif name == "openAlerts":
        needs.append(Needs(alerts=True))
    getter = _GETTERS[name]
    kind = segment_rules.FIELDS[name].kind
    return _compare(lambda f, c, n: getter(f, n), kind, op, value)


def _compare(get: Callable[[Any, Mapping[str, Any], datetime], Any], kind: str, op: str, value: Any) -> Test:
    assert op in OPS
    if op == "IS_NULL":
        wanted = True if value is None else value
        return lambda f, c, n: (get(f, c, n) is None) is wanted
    if op == "CONTAINS":
        needle = value.lower()
        return lambda f, c, n: None if (v := get(f, c, n)) is None else needle in str(v).lower()
    if op == "IN":
        allowed = list(value)
        return lambda f, c, n: None if (v := get(f, c, n)) is None else v in allowed
    if op == "NEQ":
        return lambda f, c, n: True if (v := get(f, c, n)) is None else v != value
    compare: Callable[[Any], bool] = {
        "EQ": lambda v: v == value,
        "GT": lambda v: v > value,
        "GTE": lambda v: v >= value,
        "LT": lambda v: v < value,
        "LTE": lambda v: v <= value,
    }[op]
    return lambda f, c, n: None if (v := get(f, c, n)) is None else compare(v)


def _json_kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    return "other"


def _typed(get: Callable[[Any, Mapping[str, Any], datetime], Any], op: str, value: Any) -> Test:
    """A JSON value compared only when it has the rule value's type, as the segment SQL does:
    a missing key makes the type check unknown (NEQ still passes, as ``value IS NULL`` does),
    a value of another type (JSON null included) fails EQ and passes NEQ."""
    if op == "IS_NULL":
        wanted = True if value is None else value
        return lambda f, c, n: (get(f, c, n) in (None, _MISSING)) is wanted
    sample = value[0] if op == "IN" else value
    kind = _json_kind(sample)
    inner = _compare(get, "number" if kind == "number" else "text", op, value)

    def test(f: Any, c: Mapping[str, Any], n: datetime) -> Truth:
        stored = get(f, c, n)
        if stored is _MISSING:
            return True if op == "NEQ" else None
        if _json_kind(stored) != kind:
            return op == "NEQ"
        return inner(f, c, n)

    return test


def _open_alerts(op: str, value: Any) -> Test:
    def types(f: Any) -> set[str]:
        joined = f._mapping.get("open_alert_types")
        return set(joined.split(",")) if joined else set()

    if op == "IS_NULL":
        wanted = value in (None, True)
        return lambda f, c, n: (not types(f)) is wanted
    wanted_types = set(value if op == "IN" else [value])
    return lambda f, c, n: bool(types(f) & wanted_types)
