"""Pure-engine simulation: the engine against the oracle, the best single lever and uniform random.

Every strategy faces the same customers and the same acceptance draws (common random numbers), so
curve differences come from choices, not luck. The engine learns 0/1 acceptance in micro-batches;
with ``value_aware`` it arbitrates by expected net value using the scenario's lever costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import InvalidPolicyConfig
from engine.features import FeatureEncoder
from engine.model import OfferModel
from engine.policies import PolicyConfig
from engine.scenarios import FEATURES, Cohort, Scenario

METRICS = ("accepted", "net_value")
STRATEGIES = ("engine", "oracle", "best_single_lever", "uniform_random")


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Cumulative realised reward per strategy after each decision."""

    scenario: str
    metric: str
    curves: dict[str, np.ndarray]

    @property
    def decisions(self) -> int:
        return len(self.curves["engine"])

    def total(self, strategy: str) -> float:
        return float(self.curves[strategy][-1])

    def ratio(self, strategy: str, baseline: str = "oracle") -> float:
        """Final cumulative reward of ``strategy`` as a share of ``baseline``'s."""
        return self.total(strategy) / self.total(baseline)


def oracle_choice(cohort: Cohort, metric: str = "accepted") -> np.ndarray:
    """Index of the lever with the highest true expected reward per customer."""
    return cohort.expected(metric).argmax(axis=1)


def best_single_lever(scenario: Scenario, metric: str = "accepted", seed: int = 0, sample: int = 50_000) -> str:
    """The one lever with the highest true mean reward over the population."""
    cohort = scenario.draw(sample, np.random.default_rng(seed))
    return scenario.levers[int(cohort.expected(metric).mean(axis=0).argmax())]


def run(
    config: PolicyConfig,
    scenario: Scenario,
    decisions: int,
    seed: int,
    batch_size: int = 250,
    metric: str = "accepted",
    value_aware: bool = False,
) -> SimulationResult:
    """Serve ``decisions`` synthetic customers in batches, learning after each batch."""
    if metric not in METRICS:
        raise InvalidPolicyConfig("metric", f"`metric` must be one of {METRICS}, got {metric!r}")
    if decisions < 1 or batch_size < 1:
        raise InvalidPolicyConfig("decisions", f"`decisions` and `batch_size` must be >= 1, got {decisions}, {batch_size}")
    rng = np.random.default_rng(seed)
    encoder = FeatureEncoder.fit(FEATURES, scenario.draw(2000, rng).rows)
    model = OfferModel(config, encoder, scenario.levers, scenario.costs() if value_aware else None)
    single = scenario.levers.index(best_single_lever(scenario, metric, seed))
    k = len(scenario.levers)
    rewards = {name: np.empty(decisions) for name in STRATEGIES}
    for start in range(0, decisions, batch_size):
        n = min(batch_size, decisions - start)
        cohort = scenario.draw(n, rng)
        accepted = rng.random((n, k)) < cohort.acceptance
        realised = cohort.realised(metric, accepted)
        features = encoder.encode_many(cohort.rows)
        batch = model.decide_features(
            features, np.ones((n, k), dtype=bool), rng, cohort.value if value_aware else None
        )
        rows = np.arange(n)
        window = slice(start, start + n)
        rewards["engine"][window] = realised[rows, batch.chosen]
        rewards["oracle"][window] = realised[rows, oracle_choice(cohort, metric)]
        rewards["best_single_lever"][window] = realised[:, single]
        rewards["uniform_random"][window] = realised[rows, rng.integers(0, k, n)]
        model.learn(np.array(scenario.levers)[batch.chosen], accepted[rows, batch.chosen].astype(float), features)
    return SimulationResult(scenario.name, metric, {name: np.cumsum(r) for name, r in rewards.items()})


def plot_learning_curves(result: SimulationResult, path: str | Path) -> Path:
    """Write a PNG of cumulative reward per strategy and return its path."""
    import matplotlib

    matplotlib.use("Agg")  # headless: never open a window
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    steps = np.arange(1, result.decisions + 1)
    for name, curve in result.curves.items():
        axis.plot(steps, curve, label=name.replace("_", " "))
    axis.set_xlabel("decisions")
    axis.set_ylabel(f"cumulative {result.metric.replace('_', ' ')}")
    axis.set_title(f"Ciclo engine, scenario {result.scenario}")
    axis.legend()
    axis.grid(alpha=0.3)
    output = Path(path)
    figure.savefig(output, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return output
