"""Levers and decision points from a TOML file (``ciclo serve --config ciclo.toml``).

Format::

    [[levers]]
    key = "DISCOUNT_10"
    name = "10% off the next order"
    kind = "DISCOUNT"
    discount_percent = 10

    [decision_points.RETENTION]
    levers = ["DISCOUNT_10", "NO_ACTION"]
    features = ["valueTier", "openAlerts"]
    reward = "NET_VALUE"
    reward_window_hours = 168
    default_reward = 0
    policy = { kind = "LIN_TS", alpha = 0.5, seed = 1 }
    # guardrails (all optional)
    objective = "NET_VALUE"
    value_attribute = "attributes.margin"
    max_discount_percent = { GOLD = 20, SILVER = 10, BRONZE = 5 }
    control_share = 0.05
    control_period_days = 30
    arms = [{ name = "ucb", policy = { kind = "LIN_UCB", alpha = 1.0 }, traffic_percent = 10 }]

A lever takes ``eligibility`` (a rule tree as an inline table) and ``weight``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from services.errors import InvalidInput
from services.offers.values import DecisionPointDraft, Guardrails, LeverDraft, Policy, PolicyArm

GUARDRAIL_KEYS = ("objective", "value_attribute", "control_share", "control_period_days")

DEMO = Path(__file__).with_name("demo.toml")


@dataclass(frozen=True, slots=True)
class OfferConfig:
    levers: tuple[LeverDraft, ...]
    decision_points: tuple[DecisionPointDraft, ...]


def _build(kind: type, data: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]}", "unknown setting")
    return kind(**data)


def parse(text: str) -> OfferConfig:
    """Parse the TOML text; every problem is an ``InvalidInput`` naming the setting."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("config", str(exc)) from None
    levers = tuple(_build(LeverDraft, dict(item), f"levers[{i}]") for i, item in enumerate(data.get("levers", [])))
    points = []
    for key, item in data.get("decision_points", {}).items():
        item = dict(item)
        policy = _build(Policy, dict(item.pop("policy", {})), f"decision_points.{key}.policy")
        for name in ("levers", "features"):
            item[name] = tuple(item.get(name, ()))
        item["context_examples"] = tuple(item.get("context_examples", ()))
        item["guardrails"] = _guardrails(item, f"decision_points.{key}")
        points.append(_build(DecisionPointDraft, {"key": key, **item, "policy": policy}, f"decision_points.{key}"))
    return OfferConfig(levers, tuple(points))


def _guardrails(item: dict[str, Any], where: str) -> Guardrails:
    rails = {name: item.pop(name) for name in GUARDRAIL_KEYS if name in item}
    caps = item.pop("max_discount_percent", {})
    if not isinstance(caps, dict):
        raise InvalidInput(f"{where}.max_discount_percent", "must be a table of tier = percent")
    arms = []
    for i, arm in enumerate(item.pop("arms", [])):
        arm = dict(arm)
        policy = _build(Policy, dict(arm.pop("policy", {})), f"{where}.arms[{i}].policy")
        arms.append(_build(PolicyArm, {**arm, "policy": policy}, f"{where}.arms[{i}]"))
    return Guardrails(
        max_discount_percent=tuple((tier, float(cap)) for tier, cap in caps.items()), challengers=tuple(arms), **rails
    )


def load(path: Path) -> OfferConfig:
    return parse(path.read_text())


async def apply(offers: Any, config: OfferConfig) -> list[str]:
    """Upsert every lever, then configure every decision point; returns what was configured."""
    done = []
    for lever in config.levers:
        await offers.catalog.upsert_lever(lever)
        done.append(f"lever {lever.key}")
    for point in config.decision_points:
        configured = await offers.catalog.configure(point)
        done.append(f"decision point {configured.key} v{configured.version}")
    return done
