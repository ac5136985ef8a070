from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.errors import InvalidPolicyConfig
from engine.features import FeatureEncoder
from engine.policies import PolicyConfig, PolicyKind
from engine.scenarios import FEATURES, SCENARIOS, scenario
from engine.simulator import best_single_lever, oracle_choice, plot_learning_curves, run


@pytest.mark.parametrize("kind", [PolicyKind.LIN_TS, PolicyKind.LIN_UCB])
def test_contextual_policy_beats_best_single_lever_and_nears_oracle_on_heterogeneous(kind: PolicyKind) -> None:
    result = run(PolicyConfig(kind, alpha=0.5), scenario("heterogeneous"), decisions=20_000, seed=1)
    assert result.ratio("engine") >= 0.85
    assert result.total("engine") > 1.2 * result.total("best_single_lever")


def test_net_value_arbitration_escapes_the_deep_discount_trap() -> None:
    trap = scenario("deep_discount_trap")
    assert best_single_lever(trap, "accepted") == "DISCOUNT_30"
    assert best_single_lever(trap, "net_value") != "DISCOUNT_30"
    config = PolicyConfig(PolicyKind.LIN_TS, alpha=0.5)
    by_acceptance = run(config, trap, decisions=5_000, seed=2, metric="net_value")
    by_value = run(config, trap, decisions=5_000, seed=2, metric="net_value", value_aware=True)
    assert by_value.total("engine") > 1.1 * by_acceptance.total("engine")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_draws_encodable_customers_with_valid_ground_truth(name: str) -> None:
    cohort = scenario(name).draw(500, np.random.default_rng(0))
    assert FeatureEncoder.fit(FEATURES, cohort.rows).encode_many(cohort.rows).shape[0] == 500
    assert np.all((cohort.acceptance > 0) & (cohort.acceptance < 1))
    assert (oracle_choice(cohort) < len(scenario(name).levers)).all()
    # no single lever is best for everyone (by acceptance, or by net value for the discount trap)
    assert max(len(set(oracle_choice(cohort, metric).tolist())) for metric in ("accepted", "net_value")) >= 2


def test_seeded_run_is_reproducible_and_plots_a_png(tmp_path: Path) -> None:
    config = PolicyConfig(PolicyKind.THOMPSON)
    first = run(config, scenario("retention"), decisions=600, seed=4)
    second = run(config, scenario("retention"), decisions=600, seed=4)
    np.testing.assert_array_equal(first.curves["engine"], second.curves["engine"])
    png = plot_learning_curves(first, tmp_path / "curves.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_scenario_and_metric_are_rejected() -> None:
    with pytest.raises(InvalidPolicyConfig):
        scenario("utopia")
    with pytest.raises(InvalidPolicyConfig):
        run(PolicyConfig(PolicyKind.RANDOM), scenario("retention"), 10, seed=0, metric="vibes")
