"""Simulation through the real service layer and database, against ``engine.scenarios`` populations.

Unlike ``engine.simulator`` (pure numpy), every decision here is a ``decide_batch`` call, every
outcome a ``record_many`` call and learning is the model registry tailing the outcome log: what the
curves measure is the product, not just the policy. Strategies face the same customers and the same
acceptance draws (common random numbers).

The scenario's eligibility rules become the levers' rules, so the engine, the oracle and uniform
random all choose among each customer's eligible levers (the best single lever falls back to
NO_ACTION where it is not allowed). With ``control_share`` a control group gets NO_ACTION; its
decisions count in the engine's curve and the uplift over them is reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import numpy as np

from engine.scenarios import FEATURES, LEVER_COSTS, scenario as named_scenario
from engine.simulator import SimulationResult, best_single_lever
from services.domain import CustomerDraft
from services.offers.eligibility import compile_rule
from services.offers.values import BatchRequest, DecisionPointDraft, Guardrails, LeverDraft, OutcomeReport, Policy

FIT_SAMPLE = 2000
_KINDS = {"DISCOUNT_10": "DISCOUNT", "DISCOUNT_30": "DISCOUNT", "FREE_SHIPPING": "FREE_SHIPPING",
          "PERSONAL_CALL": "PERSONAL_CALL", "PREMIUM_SUPPORT": "PREMIUM_SUPPORT", "BUNDLE_OFFER": "BUNDLE",
          "NO_ACTION": "NO_ACTION"}


def attribute_name(feature: str) -> str:
    """Where a scenario feature lives on a simulated customer (their ``attributes``)."""
    if feature.startswith("attributes."):
        return feature.removeprefix("attributes.")
    return "sim_" + feature.replace(".", "_")


def rule_on_attributes(rule: Any) -> Any:
    """A scenario rule over feature names, as a rule over the simulated customers' attributes."""
    if isinstance(rule, dict) and "field" in rule:
        return {**rule, "field": f"attributes.{attribute_name(rule['field'])}"}
    if isinstance(rule, dict):
        return {key: rule_on_attributes(value) for key, value in rule.items()}
    if isinstance(rule, list):
        return [rule_on_attributes(item) for item in rule]
    return rule


@dataclass(frozen=True, slots=True)
class Simulation:
    result: SimulationResult
    decision_point: str
    decisions: int
    control: int = 0
    control_reward: float | None = None
    treated_reward: float | None = None

    @property
    def uplift(self) -> float | None:
        """Mean realised reward of served decisions minus that of the control group."""
        if self.control_reward is None or self.treated_reward is None:
            return None
        return self.treated_reward - self.control_reward


async def simulate(
    services: object,
    scenario: str,
    decisions: int,
    seed: int,
    *,
    policy: Policy | None = None,
    chunk: int = 250,
    metric: str = "accepted",
    objective: str = "REWARD",
    reward: str | None = None,
    control_share: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> Simulation:
    """Serve ``decisions`` synthetic customers through decide_batch/record_many, learning between chunks.

    ``reward`` (what the engine learns) defaults to the metric; ``objective = "NET_VALUE"`` ranks
    levers by expected net value with each customer's value (their ``rfm.monetary`` trait) at stake."""
    offers = services.offers  # type: ignore[attr-defined]
    customers = services.customers  # type: ignore[attr-defined]
    world = named_scenario(scenario)
    rng = np.random.default_rng(seed)
    run = f"sim{seed}-{uuid.uuid4().hex[:8]}"
    for lever in world.levers:
        cost = LEVER_COSTS.get(lever)
        await offers.catalog.upsert_lever(
            LeverDraft(
                key=lever,
                name=lever.replace("_", " ").title(),
                kind=_KINDS.get(lever, "CUSTOM"),
                cost_percent_of_value=100.0 * cost.percent_of_value if cost else 0.0,
                unit_cost=cost.unit_cost if cost else 0.0,
                contact_cost=cost.contact_cost if cost else 0.0,
                eligibility=rule_on_attributes(world.eligibility[lever]) if lever in world.eligibility else None,
            )
        )
    rules = {j: compile_rule(rule_on_attributes(world.eligibility[lever])) for j, lever in enumerate(world.levers) if lever in world.eligibility}
    # The encoder is fitted on the customer base at configuration time: seed it with a sample.
    await _create(customers, f"{run}-fit", scenario_rows(world.draw(FIT_SAMPLE, rng).rows))
    key = f"SIM_{scenario.upper()}"
    await offers.catalog.configure(
        DecisionPointDraft(
            key=key,
            levers=world.levers,
            policy=policy or Policy("LIN_TS", alpha=0.5, seed=seed),
            features=tuple(f"attributes.{attribute_name(f)}" for f in FEATURES),
            reward=reward or ("ACCEPTED" if metric == "accepted" else "NET_VALUE"),
            refit=True,
            guardrails=Guardrails(
                objective=objective, value_attribute=f"attributes.{attribute_name('rfm.monetary')}",
                control_share=control_share,
            ),
        )
    )
    fallback = world.levers.index("NO_ACTION") if "NO_ACTION" in world.levers else None
    control_rewards: list[float] = []
    treated_rewards: list[float] = []
    single = world.levers.index(best_single_lever(world, metric, seed))
    k = len(world.levers)
    rewards = {name: np.empty(decisions) for name in ("engine", "oracle", "best_single_lever", "uniform_random")}
    for start in range(0, decisions, chunk):
        n = min(chunk, decisions - start)
        cohort = world.draw(n, rng)
        accepted = rng.random((n, k)) < cohort.acceptance
        realised = cohort.realised(metric, accepted)
        attributes = scenario_rows(cohort.rows)
        ids = await _create(customers, f"{run}-{start}", attributes)
        batch = await offers.decisions.decide_batch(BatchRequest(key, tuple(ids)))
        assert not batch.errors, batch.errors[:3]
        chosen = np.array([world.levers.index(d.lever) for d in batch.decisions])
        allowed = _allowed(rules, attributes, k)
        rows = np.arange(n)
        window = slice(start, start + n)
        rewards["engine"][window] = realised[rows, chosen]
        expected = np.where(allowed, cohort.expected(metric), -np.inf)
        rewards["oracle"][window] = realised[rows, expected.argmax(axis=1)]
        single_or_fallback = np.where(allowed[:, single] | (fallback is None), single, fallback or 0)
        rewards["best_single_lever"][window] = realised[rows, single_or_fallback]
        random_keys = np.where(allowed, rng.random((n, k)), -1.0)
        rewards["uniform_random"][window] = realised[rows, random_keys.argmax(axis=1)]
        for i, d in enumerate(batch.decisions):
            (control_rewards if d.holdout else treated_rewards).append(float(realised[i, chosen[i]]))
        reports = [
            OutcomeReport(d.id, bool(accepted[i, chosen[i]]), float(cohort.value[i]) if accepted[i, chosen[i]] else None)
            for i, d in enumerate(batch.decisions)
        ]
        stored = await offers.outcomes.record_many(reports)
        assert not stored.errors, stored.errors[:3]
        await offers.sync()
        if progress is not None:
            progress(start + n)
    curves = {name: np.cumsum(r) for name, r in rewards.items()}
    return Simulation(
        SimulationResult(world.name, metric, curves), key, decisions, len(control_rewards),
        float(np.mean(control_rewards)) if control_rewards else None,
        float(np.mean(treated_rewards)) if treated_rewards else None,
    )


def _allowed(rules: dict[int, Any], attributes: list[dict[str, object]], k: int) -> np.ndarray:
    """(n, k): which levers each simulated customer is eligible for."""
    allowed = np.ones((len(attributes), k), dtype=bool)
    now = datetime.now(UTC)
    for j, rule in rules.items():
        for i, attrs in enumerate(attributes):
            allowed[i, j] = rule.allows(SimpleNamespace(attributes=attrs), {}, now)
    return allowed


def scenario_rows(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{attribute_name(name): value for name, value in row.items()} for row in rows]


async def _create(customers: object, prefix: str, attributes: list[dict[str, object]]) -> list[str]:
    ids = [f"{prefix}-{i}" for i in range(len(attributes))]
    drafts = [CustomerDraft(external_id=ext, attributes=attrs) for ext, attrs in zip(ids, attributes)]
    for start in range(0, len(drafts), 10_000):
        result = await customers.upsert_many(drafts[start : start + 10_000])  # type: ignore[attr-defined]
        assert not result.errors, result.errors[:3]
    return ids
