"""The simulator under a budget: the capped lever is spent exactly, everyone else falls back."""

from __future__ import annotations

from sqlalchemy import func, select

from api.cli import main
from db.models import Decision
from services.container import Services
from services.offers.simulation_budget import simulate_with_budget


async def test_a_simulation_with_a_lever_budget_spends_it_and_falls_back(services: Services) -> None:
    run, budget = await simulate_with_budget(
        services, "deep_discount_trap", 1000, seed=1, lever="DISCOUNT_30", max_count=60, chunk=250
    )
    async with services.sessions() as session:
        capped = await session.scalar(select(func.count()).select_from(Decision).where(
            Decision.decision_point_id.is_not(None), Decision.lever_key == "DISCOUNT_30"))
        total = await session.scalar(select(func.count()).select_from(Decision))
    assert budget.used == capped == 60 and total == 1000 == run.decisions
    assert run.result.total("engine") > 0


def test_simulate_cli_refuses_a_budget_on_a_lever_the_scenario_lacks(capsys) -> None:
    assert main(["simulate", "--scenario", "retention", "--decisions", "10", "--budget", "5", "--budget-lever", "NOPE"]) == 2
    assert "budgetLever" in capsys.readouterr().err
