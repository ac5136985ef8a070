"""ORM rows and plain result rows -> frozen offer values."""

from __future__ import annotations

from typing import Any

from engine import PolicyConfig
from services.offers.values import (
    MAIN_ARM,
    Decision,
    DecisionPoint,
    Guardrails,
    Lever,
    Outcome,
    Policy,
    PolicyArm,
    ShadowScore,
)


def lever(row: Any) -> Lever:
    return Lever(
        key=row.key,
        name=row.name,
        kind=row.kind,
        discount_percent=row.discount_percent,
        unit_cost=row.unit_cost,
        cost_percent_of_value=row.cost_percent_of_value,
        contact_cost=row.contact_cost,
        active=bool(row.active),
        created_at=row.created_at,
        updated_at=row.updated_at,
        eligibility=row.eligibility,
        weight=float(row.weight if row.weight is not None else 1.0),
    )


def policy_to_json(policy: Policy) -> dict[str, Any]:
    return {
        "kind": policy.kind,
        "alpha": policy.alpha,
        "epsilon": policy.epsilon,
        "tau": policy.tau,
        "l2Lambda": policy.l2_lambda,
        "seed": policy.seed,
        "propensitySamples": policy.propensity_samples,
        "successThreshold": policy.success_threshold,
    }


def policy_from_json(data: dict[str, Any]) -> Policy:
    return Policy(
        kind=data["kind"],
        alpha=data["alpha"],
        epsilon=data["epsilon"],
        tau=data["tau"],
        l2_lambda=data["l2Lambda"],
        seed=data["seed"],
        propensity_samples=data["propensitySamples"],
        success_threshold=data.get("successThreshold"),
    )


def engine_policy(policy: Policy) -> PolicyConfig:
    """The engine's config; it validates itself (``InvalidPolicyConfig`` names the field)."""
    return PolicyConfig(
        kind=policy.kind,  # type: ignore[arg-type]
        alpha=policy.alpha,
        epsilon=policy.epsilon,
        tau=policy.tau,
        l2_lambda=policy.l2_lambda,
        seed=policy.seed,
        propensity_samples=policy.propensity_samples,
        success_threshold=policy.success_threshold,
    )


def guardrails_to_json(guardrails: Guardrails) -> dict[str, Any]:
    return {
        "maxDiscountPercent": dict(guardrails.max_discount_percent),
        "objective": guardrails.objective,
        "valueAttribute": guardrails.value_attribute,
        "controlShare": guardrails.control_share,
        "controlPeriodDays": guardrails.control_period_days,
        "challengers": [
            {"name": a.name, "policy": policy_to_json(a.policy), "trafficPercent": a.traffic_percent, "shadow": a.shadow}
            for a in guardrails.challengers
        ],
        "champion": guardrails.champion,
    }


def guardrails_from_json(config: dict[str, Any]) -> Guardrails:
    """Configs stored before issue 5 have none of these keys: they get the defaults."""
    return Guardrails(
        max_discount_percent=tuple((tier, float(cap)) for tier, cap in (config.get("maxDiscountPercent") or {}).items()),
        objective=config.get("objective", "REWARD"),
        value_attribute=config.get("valueAttribute"),
        control_share=float(config.get("controlShare", 0.0)),
        control_period_days=int(config.get("controlPeriodDays", 30)),
        challengers=tuple(
            PolicyArm(a["name"], policy_from_json(a["policy"]), float(a["trafficPercent"]), bool(a["shadow"]))
            for a in config.get("challengers", ())
        ),
        champion=config.get("champion", MAIN_ARM),
    )


def decision_point(row: Any) -> DecisionPoint:
    config = row.config
    return DecisionPoint(
        id=row.id,
        key=row.key,
        name=row.name,
        levers=tuple(config["levers"]),
        known_levers=tuple(row.known_levers),
        policy=policy_from_json(config["policy"]),
        features=tuple(config["features"]),
        reward=config["reward"],
        reward_window_hours=float(config["rewardWindowHours"]),
        default_reward=float(config["defaultReward"]),
        version=row.version,
        encoder=row.encoder,
        created_at=row.created_at,
        updated_at=row.updated_at,
        guardrails=guardrails_from_json(config),
    )


def decision(row: Any, point_key: str) -> Decision:
    explanation = row.explanation or {}
    mapping = row._mapping if hasattr(row, "_mapping") else vars(row)
    shadow = None
    if mapping.get("shadow_arm") is not None:
        shadow = ShadowScore(row.shadow_arm, row.shadow_lever, row.shadow_expected_reward)
    return Decision(
        id=row.id,
        decision_point=point_key,
        customer_id=row.customer_id,
        request_id=row.request_id,
        lever=row.lever_key,
        propensity=row.propensity,
        expected_reward=row.expected_reward,
        candidates=tuple(row.candidates),
        explanation=explanation,
        context=dict(row.context or {}),
        features=tuple(row.features),
        config_version=row.config_version,
        model_version=row.model_version,
        created_at=row.created_at,
        activated_at=row.activated_at,
        window_ends_at=row.window_ends_at,
        imported=bool(getattr(row, "imported", False)),
        holdout=bool(mapping.get("holdout") or False),
        policy_arm=mapping.get("policy_arm") or MAIN_ARM,
        shadow=shadow,
    )


def logged_decision(
    row: dict[str, Any], decision_id: int, point_key: str, served: Lever | None = None,
    candidates: dict[int, tuple[str, ...]] | None = None,
) -> Decision:
    """``decision`` for a log row this process just wrote (a dict as ``choice.choose`` builds it):
    the same value, read straight off the dict instead of through attribute lookups; ``served``:
    the lever's catalogue entry it was decided with. Rows of a chunk share their candidate lists;
    ``candidates`` (id of a list -> its tuple) lets a caller mapping a chunk convert each once.
    The row's context is already the chunk's own copy of the request's (``choice.choose``), so it
    is kept as it is."""
    shadow_arm = row.get("shadow_arm")
    listed = row["candidates"]
    if candidates is None:
        levers = tuple(listed)
    elif (levers := candidates.get(id(listed))) is None:
        levers = candidates[id(listed)] = tuple(listed)
    return Decision(
        decision_id,
        point_key,
        row["customer_id"],
        row.get("request_id"),
        row["lever_key"],
        row["propensity"],
        row["expected_reward"],
        levers,
        row["explanation"],
        row["context"],
        tuple(row["features"]),
        row["config_version"],
        row["model_version"],
        row["created_at"],
        row.get("activated_at"),
        row.get("window_ends_at"),
        bool(row.get("imported", False)),
        bool(row.get("holdout") or False),
        row.get("policy_arm") or MAIN_ARM,
        ShadowScore(shadow_arm, row["shadow_lever"], row["shadow_expected_reward"]) if shadow_arm is not None else None,
        served,
    )


def outcome(row: Any) -> Outcome:
    return Outcome(
        id=row.id,
        decision_id=row.decision_id,
        accepted=bool(row.accepted),
        revenue=row.revenue,
        reward=row.reward,
        late=bool(row.late),
        source=row.source,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
    )
