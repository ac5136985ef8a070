"""A generated historical campaign: three arms drawn uniformly at random, one a no-contact control.

``expected_per_arm`` computes what reports must show straight from the rows, so any report can be
checked against the file (leverStats, and leverPerformance with its uplift against the control).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ARMS = ("DISCOUNT_10", "PERSONAL_CALL", "NO_ACTION")
CONTROL = "NO_ACTION"
# acceptance by arm for (not price sensitive, price sensitive)
ACCEPTANCE = {"DISCOUNT_10": (0.10, 0.35), "PERSONAL_CALL": (0.18, 0.12), "NO_ACTION": (0.05, 0.05)}
TIERS = ("LOW", "MID", "HIGH")


@dataclass(frozen=True, slots=True)
class ArmExpectation:
    decisions: int
    accepted: int
    accept_rate: float
    revenue: float
    revenue_per_decision: float


def generate_campaign(n: int, seed: int, *, start: datetime = datetime(2025, 3, 1, tzinfo=UTC)) -> list[dict[str, Any]]:
    """``n`` logged decisions, arms uniform (propensity 1/3), one row per customer contact."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sensitive = bool(rng.random() < 0.4)
        tier = TIERS[int(rng.integers(0, 3))]
        arm = ARMS[int(rng.integers(0, len(ARMS)))]
        accepted = bool(rng.random() < ACCEPTANCE[arm][int(sensitive)])
        revenue = round(float(rng.lognormal(3.5, 0.5)), 2) if accepted else 0.0
        rows.append({
            "externalId": f"hist-{seed}-{i % (n // 2 + 1)}",  # most customers were contacted twice
            "decisionPoint": "WINBACK",
            "lever": arm,
            "propensity": 1 / len(ARMS),
            "decidedAt": (start + timedelta(minutes=17 * i)).isoformat(),
            "features": {"context.price_sensitive": sensitive, "context.tier": tier},
            "accepted": accepted,
            "revenue": revenue,
            "attributes": {"source": "crm-2025"},
            "requestId": f"camp-{seed}-{i}",
        })
    return rows


def expected_per_arm(rows: list[dict[str, Any]]) -> dict[str, ArmExpectation]:
    """Per arm, from the rows alone: decisions, accepted, accept rate, revenue and revenue per decision
    (revenue counts only on accepted rows, as every report does)."""
    found = {}
    for arm in sorted({r["lever"] for r in rows}):
        mine = [r for r in rows if r["lever"] == arm]
        accepted = sum(1 for r in mine if r["accepted"])
        revenue = sum(r["revenue"] for r in mine if r["accepted"])
        found[arm] = ArmExpectation(len(mine), accepted, accepted / len(mine), revenue, revenue / len(mine))
    return found


def uplift_vs_control(rows: list[dict[str, Any]], control: str = CONTROL) -> dict[str, tuple[float, float]]:
    """Per arm: (accept rate - control's, revenue per decision - control's), from the rows alone."""
    arms = expected_per_arm(rows)
    base = arms[control]
    return {
        arm: (e.accept_rate - base.accept_rate, e.revenue_per_decision - base.revenue_per_decision)
        for arm, e in arms.items()
    }


def write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    columns = list(rows[0])
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(columns)
        for row in rows:
            out.writerow([_cell(row[c]) for c in columns])
    return path


def graphql_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)
