"""Customer facts -> the named feature values the engine encodes (``engine.features`` names)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
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


def profile_row(facts: Any, features: Iterable[str], now: datetime) -> dict[str, object]:
    """The named features of one customer from its fact row; facts that do not exist are None."""
    mapping = facts._mapping
    attributes: Mapping[str, Any] = facts.attributes or {}
    row: dict[str, object] = {}
    for name in features:
        if name.startswith("attributes."):
            row[name] = attributes.get(name.removeprefix("attributes."))
        elif name == "stage":
            row[name] = facts.stage
        elif name == "acquisitionChannel":
            row[name] = facts.acquisition_channel
        elif name == "tenureDays":
            row[name] = _days(now, facts.created_at)
        elif name == "valueTier":
            row[name] = facts.value_tier
        elif name == "rfm.recency":
            row[name] = facts.recency
        elif name == "rfm.frequency":
            row[name] = facts.frequency
        elif name == "rfm.monetary":
            row[name] = facts.monetary
        elif name == "daysSinceLastPurchase":
            row[name] = _days(now, facts.last_purchase_at)
        elif name == "openAlerts":
            row[name] = mapping.get("open_alerts")
        elif name == "churnReason":
            row[name] = mapping.get("churn_reason")
    return row


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
