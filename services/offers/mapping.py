"""ORM rows and plain result rows -> frozen offer values."""

from __future__ import annotations

from typing import Any

from engine import PolicyConfig
from services.offers.values import CandidateEstimate, Decision, DecisionPoint, Lever, Outcome, Policy


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
    )


def decision(row: Any, point_key: str) -> Decision:
    explanation = row.explanation or {}
    return Decision(
        id=row.id,
        decision_point=point_key,
        customer_id=row.customer_id,
        request_id=row.request_id,
        lever=row.lever_key,
        propensity=row.propensity,
        expected_reward=row.expected_reward,
        candidates=tuple(row.candidates),
        estimates=tuple(
            CandidateEstimate(e["lever"], e["estimatedReward"], e["score"]) for e in explanation.get("estimates", ())
        ),
        inputs={name: value for name, value in explanation.get("inputs", ())},
        context=dict(row.context or {}),
        features=tuple(row.features),
        config_version=row.config_version,
        model_version=row.model_version,
        created_at=row.created_at,
        activated_at=row.activated_at,
        window_ends_at=row.window_ends_at,
        imported=bool(getattr(row, "imported", False)),
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
