"""Simulation through the real service layer and database, against ``engine.scenarios`` populations.

Unlike ``engine.simulator`` (pure numpy), every decision here is a ``decide_batch`` call, every
outcome a ``record_many`` call and learning is the model registry tailing the outcome log: what the
curves measure is the product, not just the policy. Strategies face the same customers and the same
acceptance draws (common random numbers).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.scenarios import FEATURES, LEVER_COSTS, scenario as named_scenario
from engine.simulator import SimulationResult, best_single_lever, oracle_choice
from services.domain import CustomerDraft
from services.offers.values import BatchRequest, DecisionPointDraft, LeverDraft, OutcomeReport, Policy

FIT_SAMPLE = 2000
_KINDS = {"DISCOUNT_10": "DISCOUNT", "DISCOUNT_30": "DISCOUNT", "FREE_SHIPPING": "FREE_SHIPPING",
          "PERSONAL_CALL": "PERSONAL_CALL", "PREMIUM_SUPPORT": "PREMIUM_SUPPORT", "BUNDLE_OFFER": "BUNDLE",
          "NO_ACTION": "NO_ACTION"}


def attribute_name(feature: str) -> str:
    """Where a scenario feature lives on a simulated customer (their ``attributes``)."""
    if feature.startswith("attributes."):
        return feature.removeprefix("attributes.")
    return "sim_" + feature.replace(".", "_")


@dataclass(frozen=True, slots=True)
class Simulation:
    result: SimulationResult
    decision_point: str
    decisions: int


async def simulate(
    services: object,
    scenario: str,
    decisions: int,
    seed: int,
    *,
    policy: Policy | None = None,
    chunk: int = 250,
    metric: str = "accepted",
    progress: Callable[[int], None] | None = None,
) -> Simulation:
    """Serve ``decisions`` synthetic customers through decide_batch/record_many, learning between chunks."""
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
            )
        )
    # The encoder is fitted on the customer base at configuration time: seed it with a sample.
    await _create(customers, f"{run}-fit", scenario_rows(world.draw(FIT_SAMPLE, rng).rows))
    key = f"SIM_{scenario.upper()}"
    await offers.catalog.configure(
        DecisionPointDraft(
            key=key,
            levers=world.levers,
            policy=policy or Policy("LIN_TS", alpha=0.5, seed=seed),
            features=tuple(f"attributes.{attribute_name(f)}" for f in FEATURES),
            reward="ACCEPTED" if metric == "accepted" else "NET_VALUE",
            refit=True,
        )
    )
    single = world.levers.index(best_single_lever(world, metric, seed))
    k = len(world.levers)
    rewards = {name: np.empty(decisions) for name in ("engine", "oracle", "best_single_lever", "uniform_random")}
    for start in range(0, decisions, chunk):
        n = min(chunk, decisions - start)
        cohort = world.draw(n, rng)
        accepted = rng.random((n, k)) < cohort.acceptance
        realised = cohort.realised(metric, accepted)
        ids = await _create(customers, f"{run}-{start}", scenario_rows(cohort.rows))
        batch = await offers.decisions.decide_batch(BatchRequest(key, tuple(ids)))
        assert not batch.errors, batch.errors[:3]
        chosen = np.array([world.levers.index(d.lever) for d in batch.decisions])
        rows = np.arange(n)
        window = slice(start, start + n)
        rewards["engine"][window] = realised[rows, chosen]
        rewards["oracle"][window] = realised[rows, oracle_choice(cohort, metric)]
        rewards["best_single_lever"][window] = realised[:, single]
        rewards["uniform_random"][window] = realised[rows, rng.integers(0, k, n)]
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
    return Simulation(SimulationResult(world.name, metric, curves), key, decisions)


def scenario_rows(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{attribute_name(name): value for name, value in row.items()} for row in rows]


async def _create(customers: object, prefix: str, attributes: list[dict[str, object]]) -> list[str]:
    ids = [f"{prefix}-{i}" for i in range(len(attributes))]
    drafts = [CustomerDraft(external_id=ext, attributes=attrs) for ext, attrs in zip(ids, attributes)]
    for start in range(0, len(drafts), 10_000):
        result = await customers.upsert_many(drafts[start : start + 10_000])  # type: ignore[attr-defined]
        assert not result.errors, result.errors[:3]
    return ids
