from __future__ import annotations

import numpy as np
import pytest

from engine.arbitration import CostModel, LeverCost, arbitrate
from engine.errors import InvalidPolicyConfig, UnknownLever


def test_net_value_is_acceptance_times_value_minus_expected_cost_times_weight() -> None:
    costs = CostModel.for_levers(
        ["A", "B"], {"A": LeverCost(contact_cost=2.0, unit_cost=1.0, percent_of_value=0.1, weight=2.0)}
    )
    terms = costs.net_value(np.array([[0.5, 1.4]]), np.array([100.0]))
    assert terms.expected_cost[0].tolist() == [2.0 + 0.5 * (1.0 + 10.0), 0.0]
    assert terms.net[0].tolist() == [2.0 * (50.0 - 7.5), 100.0]  # B's acceptance is clipped to 1
    assert terms.acceptance[0, 1] == 1.0


def test_arbitration_broadcasts_values_over_resamples() -> None:
    costs = CostModel.for_levers(["A", "B"], {})
    terms = costs.net_value(np.full((3, 7, 2), 0.5), np.array([1.0, 2.0, 3.0]))
    assert terms.net.shape == (3, 7, 2) and terms.net[2, 6, 0] == 1.5


def test_arbitrate_breaks_net_value_ties_at_random() -> None:
    costs = CostModel.for_levers(["A", "B"], {})
    chosen, _ = arbitrate(np.full((400, 2), 0.3), np.full(400, 10.0), costs, np.ones((400, 2), bool), np.random.default_rng(0))
    assert 150 < int((chosen == 0).sum()) < 250


def test_lever_cost_validates_itself() -> None:
    with pytest.raises(InvalidPolicyConfig) as error:
        LeverCost(percent_of_value=1.5)
    assert error.value.field == "percent_of_value"
    with pytest.raises(InvalidPolicyConfig):
        LeverCost(weight=0)
    with pytest.raises(UnknownLever):
        CostModel.for_levers(["A"], {"Z": LeverCost()})


def test_net_shortcut_equals_the_full_net_value_terms() -> None:
    costs = CostModel.for_levers(
        ["A", "B", "C"],
        {"A": LeverCost(contact_cost=2.0, unit_cost=1.0, percent_of_value=0.1, weight=2.0), "C": LeverCost(unit_cost=4.0)},
    )
    acceptance = np.random.default_rng(1).normal(0.4, 0.5, (6, 9, 3))
    values = np.linspace(10.0, 300.0, 6)
    np.testing.assert_allclose(costs.net(acceptance, values), costs.net_value(acceptance, values).net, rtol=1e-12, atol=1e-9)
