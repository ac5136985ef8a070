"""Checks for a decision point's guardrails (tier caps, objective, control group, policy arms).

Every problem is an ``InvalidInput`` whose field is the GraphQL input path, e.g. ``controlShare``
or ``arms[1].trafficPercent``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from engine import InvalidPolicyConfig
from services.errors import InvalidInput
from services.lifecycle.scores import TIERS
from services.offers import mapping
from services.offers.values import OBJECTIVES, Guardrails, Lever

MAX_ARMS = 5
_VALUE_SOURCE = re.compile(r"^(attributes|context)\.[A-Za-z0-9_\-]{1,64}$")
_ARM_NAME = re.compile(r"^[A-Za-z0-9_\-.]{1,64}$")


def check(guardrails: Guardrails, levers: Mapping[str, Lever], lever_keys: tuple[str, ...]) -> None:
    """Refuse a configuration that cannot be served as asked."""
    for tier, cap in guardrails.max_discount_percent:
        if tier not in TIERS:
            raise InvalidInput("maxDiscountPercent", f"unknown tier {tier!r}; one of {', '.join(TIERS)}")
        if not math.isfinite(cap) or not 0 <= cap <= 100:
            raise InvalidInput(f"maxDiscountPercent.{tier}", f"must be between 0 and 100, got {cap}")
    if len({tier for tier, _ in guardrails.max_discount_percent}) != len(guardrails.max_discount_percent):
        raise InvalidInput("maxDiscountPercent", "names a tier twice")
    if guardrails.objective not in OBJECTIVES:
        raise InvalidInput("objective", f"must be one of {list(OBJECTIVES)}, got {guardrails.objective!r}")
    source = guardrails.value_attribute
    if source is not None and not _VALUE_SOURCE.match(source):
        raise InvalidInput("valueAttribute", f"must be attributes.<name> or context.<name>, got {source!r}")
    share = guardrails.control_share
    if not math.isfinite(share) or not 0 <= share < 1:
        raise InvalidInput("controlShare", f"must be at least 0 and below 1, got {share}")
    if share > 0 and control_lever(levers, lever_keys) is None:
        raise InvalidInput("controlShare", "a control group needs a lever of kind NO_ACTION among the levers")
    if not 1 <= guardrails.control_period_days <= 3650:
        raise InvalidInput("controlPeriodDays", f"must be 1-3650 days, got {guardrails.control_period_days}")
    _check_arms(guardrails)


def _check_arms(guardrails: Guardrails) -> None:
    arms = guardrails.challengers
    if len(arms) > MAX_ARMS:
        raise InvalidInput("arms", f"at most {MAX_ARMS} challengers")
    names = {guardrails.champion}
    for i, arm in enumerate(arms):
        if not _ARM_NAME.match(arm.name):
            raise InvalidInput(f"arms[{i}].name", f"must be 1-64 letters, digits, '_', '-' or '.', got {arm.name!r}")
        if arm.name in names:
            raise InvalidInput(f"arms[{i}].name", f"{arm.name!r} is already an arm of this decision point (the champion is {guardrails.champion!r})")
        names.add(arm.name)
        try:
            mapping.engine_policy(arm.policy)
        except InvalidPolicyConfig as exc:
            head, *rest = exc.field.split("_")
            raise InvalidInput(f"arms[{i}].policy.{head}{''.join(p.title() for p in rest)}", exc.message) from None
        if not math.isfinite(arm.traffic_percent) or not 0 <= arm.traffic_percent < 100:
            raise InvalidInput(f"arms[{i}].trafficPercent", f"must be at least 0 and below 100, got {arm.traffic_percent}")
        if arm.shadow and arm.traffic_percent:
            raise InvalidInput(f"arms[{i}].trafficPercent", "a shadow arm never serves: leave it at 0")
        if not arm.shadow and arm.traffic_percent == 0:
            raise InvalidInput(f"arms[{i}].trafficPercent", "a serving arm needs a share of the traffic (or shadow: true)")
    if sum(arm.shadow for arm in arms) > 1:
        raise InvalidInput("arms", "at most one shadow arm")
    if guardrails.champion_traffic <= 0:
        raise InvalidInput("arms", "the challengers' traffic must leave the champion a share (sum below 100)")


def control_lever(levers: Mapping[str, Lever], lever_keys: tuple[str, ...]) -> str | None:
    """The decision point's NO_ACTION lever (the first one configured), served to the control group."""
    return next((key for key in lever_keys if key in levers and levers[key].kind == "NO_ACTION" and levers[key].active), None)


def arm_policies(config: Mapping[str, Any]) -> dict[str, Any]:
    """Arm name -> stored policy, champion included: a changed policy under the same name starts
    a new model version (its logged decisions were made by another policy)."""
    champion = config.get("champion", "main")
    policies = {champion: config["policy"]}
    policies.update({arm["name"]: arm["policy"] for arm in config.get("challengers", ())})
    return policies
