"""Customer facts -> the named feature values the engine encodes (``engine.features`` names)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from services.offers.errors import InvalidContext

SCALARS = (str, int, float, bool, type(None))


def needs(features: Iterable[str]) -> dict[str, bool]:
    """Which optional (more expensive) facts a feature list needs."""
    names = set(features)
    return {"alerts": "openAlerts" in names, "churn_reason": "churnReason" in names}


def _days(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round((now - then).total_seconds() / 86_400.0, 3)


# fact row -> value of a named profile feature (``engine.features`` names); attributes and the
# request context are looked up by key instead.
_GETTERS: dict[str, Callable[[Any, datetime], object]] = {
    "stage": lambda f, now: f.stage,
    "acquisitionChannel": lambda f, now: f.acquisition_channel,
    "tenureDays": lambda f, now: _days(now, f.created_at),
    "valueTier": lambda f, now: f.value_tier,
    "rfm.recency": lambda f, now: f.recency,
    "rfm.frequency": lambda f, now: f.frequency,
    "rfm.monetary": lambda f, now: f.monetary,
    "daysSinceLastPurchase": lambda f, now: _days(now, f.last_purchase_at),
    "openAlerts": lambda f, now: f._mapping.get("open_alerts"),
    "churnReason": lambda f, now: f._mapping.get("churn_reason"),
}


def profile_row(facts: Any, features: Iterable[str], now: datetime) -> dict[str, object]:
    """The named features of one customer from its fact row; facts that do not exist are None."""
    row: dict[str, object] = {}
    for name in features:
        if name.startswith("attributes."):
            row[name] = (facts.attributes or {}).get(name.removeprefix("attributes."))
        elif (getter := _GETTERS.get(name)) is not None:
            row[name] = getter(facts, now)
    return row


# Features that are a fact column as it is: read by position, many times faster than by name.
_COLUMNS = {
    "stage": "stage",
    "acquisitionChannel": "acquisition_channel",
    "valueTier": "value_tier",
    "rfm.recency": "recency",
    "rfm.frequency": "frequency",
    "rfm.monetary": "monetary",
    "openAlerts": "open_alerts",
    "churnReason": "churn_reason",
}


def fact_column(facts: Sequence[Any], field: str) -> list[Any]:
    """One column of fact rows (``Row`` tuples), None where the query did not select it."""
    if not facts:
        return []
    fields = facts[0]._fields
    if field not in fields:
        return [None] * len(facts)
    position = fields.index(field)
    return [f[position] for f in facts]


def feature_columns(
    facts: Sequence[Any], contexts: Sequence[Mapping[str, Any]], features: Iterable[str], now: datetime
) -> list[list[object]]:
    """Per feature (in ``features`` order), its value for each customer: what ``profile_row``
    gives, and ``context.<name>`` from each customer's request context; None where missing.
    Column-wise, because a batch of customers is encoded column by column."""
    columns: list[list[object]] = []
    attributes: list[Mapping[str, Any]] | None = None
    for name in features:
        if name.startswith("attributes."):
            key = name.removeprefix("attributes.")
            if attributes is None:
                attributes = [a or {} for a in fact_column(facts, "attributes")]
            columns.append([a.get(key) for a in attributes])
        elif name in _COLUMNS:
            columns.append(fact_column(facts, _COLUMNS[name]))
        elif name.startswith("context."):
            key = name.removeprefix("context.")
            columns.append([c.get(key) for c in contexts])
        elif (getter := _GETTERS.get(name)) is not None:
            columns.append([getter(f, now) for f in facts])
        else:
            columns.append([None] * len(facts))
    return columns


def check_context(context: Mapping[str, Any] | None) -> dict[str, Any]:
    """Request context as ``context.<name>`` features; values must be scalars (or null)."""
    out: dict[str, Any] = {}
    for key, value in (context or {}).items():
        name = f"context.{key}"
        if not isinstance(value, SCALARS):
            raise InvalidContext(name, f"expected a string, number, boolean or null, got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidContext(name, "expected a finite number")
        out[name] = value
    return out
