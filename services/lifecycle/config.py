"""Lifecycle thresholds: defaults, a TOML file named by CICLO_LIFECYCLE_CONFIG, or the admin mutation."""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from services.errors import InvalidInput

CONFIG_ENV = "CICLO_LIFECYCLE_CONFIG"
# A century: longer thresholds overflow date arithmetic and would break every lifecycle pass.
MAX_DAYS = 36_500


@dataclass(frozen=True, slots=True)
class LifecycleConfig:
    """Every threshold of the lifecycle rules, in days unless the name says otherwise."""

    churn_horizon_days: float = 180.0
    retention_tenure_days: float = 365.0
    retention_min_purchases: int = 6
    reactivated_days: float = 90.0
    negative_survey_max_score: int = 6
    inactivity_gap_multiplier: float = 2.0
    inactivity_floor_days: float = 60.0
    # Alarms for causes older than this are not raised (a historical import must not flood).
    alert_lookback_days: float = 30.0
    # Open alerts nobody acted on expire after this many days.
    alert_ttl_days: float = 30.0
    rfm_window_days: float = 365.0
    # Top shares of customers by monetary value: PLATINUM, GOLD, SILVER; the rest are BRONZE.
    tier_platinum_share: float = 0.10
    tier_gold_share: float = 0.20
    tier_silver_share: float = 0.30

    def __post_init__(self) -> None:
        positive = ("churn_horizon_days", "retention_tenure_days", "reactivated_days",
                    "inactivity_gap_multiplier", "inactivity_floor_days", "alert_lookback_days",
                    "alert_ttl_days", "rfm_window_days")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise InvalidInput(_camel(name), f"must be a number > 0, got {value!r}")
            if value > MAX_DAYS:
                raise InvalidInput(_camel(name), f"must be at most {MAX_DAYS:,}, got {value!r}")
        if not isinstance(self.retention_min_purchases, int) or not 1 <= self.retention_min_purchases <= 1_000_000:
            raise InvalidInput("retentionMinPurchases", f"must be an integer 1-1,000,000, got {self.retention_min_purchases!r}")
        if not isinstance(self.negative_survey_max_score, int) or not 0 <= self.negative_survey_max_score <= 10:
            raise InvalidInput("negativeSurveyMaxScore", f"must be an integer 0-10, got {self.negative_survey_max_score!r}")
        shares = ("tier_platinum_share", "tier_gold_share", "tier_silver_share")
        for name in shares:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise InvalidInput(_camel(name), f"must be a share between 0 and 1, got {value!r}")
        total = sum(getattr(self, name) for name in shares)
        if total > 1:
            raise InvalidInput("tierSilverShare", f"tier shares must add up to at most 1, got {total:g}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_changes(self, changes: dict[str, Any]) -> LifecycleConfig:
        """A copy with ``changes`` (snake_case names) applied and validated."""
        known = {f.name for f in fields(self)}
        for name in changes:
            if name not in known:
                raise InvalidInput(_camel(name), "is not a lifecycle setting")
        values = {}
        for name, value in changes.items():
            default = getattr(LifecycleConfig, name, None)
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            values[name] = value
        return replace(self, **values)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LifecycleConfig:
        return cls().with_changes(data)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def load_file(path: str | Path) -> LifecycleConfig:
    """Read a TOML file: top-level keys (or a ``[lifecycle]`` table) named like the fields."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return LifecycleConfig.from_dict(data.get("lifecycle", data))


def from_env() -> LifecycleConfig:
    path = os.environ.get(CONFIG_ENV)
    return load_file(path) if path else LifecycleConfig()
