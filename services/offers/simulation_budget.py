"""A simulation run under a budget: one lever capped for the whole run, with fallback.

The engine's decisions go through ``decide_batch``, so once the capped lever's budget is spent
its customers get the next best lever (the propensity logged is the reduced set's). The oracle,
best-single-lever and random baselines of ``simulate`` stay unconstrained, so the gap to the
oracle shows what the cap costs.
"""

from __future__ import annotations

from typing import Any

from engine.scenarios import scenario as named_scenario
from services.errors import InvalidInput
from services.offers.budgets import BudgetDraft, BudgetState
from services.offers.simulation import _KINDS, Simulation, simulate
from services.offers.values import LeverDraft

WHOLE_RUN_DAYS = 3660


async def simulate_with_budget(
    services: Any, scenario: str, decisions: int, seed: int, *, lever: str, max_count: int, **options: Any
) -> tuple[Simulation, BudgetState]:
    """``simulate`` with at most ``max_count`` decisions of ``lever``; returns the run and the budget's use."""
    world = named_scenario(scenario)
    if lever not in world.levers:
        raise InvalidInput("budgetLever", f"scenario {scenario!r} has no lever {lever!r}; it has {list(world.levers)}")
    # simulate() sets the lever's costs; it must exist before a budget can name it
    await services.offers.catalog.upsert_lever(LeverDraft(lever, lever.replace("_", " ").title(), _KINDS.get(lever, "CUSTOM")))
    key = f"sim-{lever.lower()}"
    await services.offers.budgets.configure(
        BudgetDraft(key, "DAYS", lever=lever, days=WHOLE_RUN_DAYS, max_count=max_count, fallback=True)
    )
    run = await simulate(services, scenario, decisions, seed, **options)
    state = next(s for s in await services.offers.budgets.states() if s.budget.key == key)
    return run, state
