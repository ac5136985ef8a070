"""Off-policy estimators against the simulator, where every policy's true value is known."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import InvalidPolicyConfig
from engine.evaluation import LoggedBandit, OffPolicyEvaluator, RidgeRewardModel, effective_sample_size
from engine.features import FeatureEncoder
from engine.policies import PolicyConfig
from engine.scenarios import FEATURES, scenario
from engine.target_policies import always, greedy, policy_probabilities, trained, uniform

RETENTION = scenario("retention")  # DISCOUNT_10, FREE_SHIPPING, PERSONAL_CALL, NO_ACTION
K = len(RETENTION.levers)
ENCODER = FeatureEncoder.fit(FEATURES, RETENTION.draw(2000, np.random.default_rng(99)).rows)


def rule_policy(rows: list[dict]) -> np.ndarray:
    """DISCOUNT_10 for the price sensitive, PERSONAL_CALL for customers with alerts, else FREE_SHIPPING."""
    target = np.zeros((len(rows), K))
    for i, row in enumerate(rows):
        lever = 0 if row["attributes.price_sensitive"] else 2 if row["openAlerts"] else 1
        target[i, lever] = 1.0
    return target


CANDIDATES = {"always DISCOUNT_10": lambda rows: always(0, np.ones((len(rows), K), bool)), "rule": rule_policy}


def true_values() -> dict[str, float]:
    cohort = RETENTION.draw(200_000, np.random.default_rng(12345))
    return {name: float((make(cohort.rows) * cohort.acceptance).sum(axis=1).mean()) for name, make in CANDIDATES.items()}


def logged_campaign(n: int, rng: np.random.Generator) -> tuple[LoggedBandit, list[dict]]:
    """A non-uniform, context-dependent logging policy with exact propensities and Bernoulli rewards:
    an old rulebook (calls for valuable customers, free shipping for the rest) with random noise."""
    cohort = RETENTION.draw(n, rng)
    valuable = np.array([row["valueTier"] == "HIGH" for row in cohort.rows])
    preference = rng.normal(0.0, 0.7, (n, K))
    preference[:, 2] += 1.5 * valuable
    preference[:, 1] += 1.0 * ~valuable
    soft = np.exp(preference - preference.max(axis=1, keepdims=True))
    probabilities = 0.6 * soft / soft.sum(axis=1, keepdims=True) + 0.4 / K
    actions = (probabilities.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    rows = np.arange(n)
    rewards = (rng.random(n) < cohort.acceptance[rows, actions]).astype(np.float64)
    log = LoggedBandit(RETENTION.levers, ENCODER.encode_many(cohort.rows), actions, rewards,
                       probabilities[rows, actions], np.ones((n, K), bool))
    return log, cohort.rows


def test_95_percent_intervals_cover_the_true_value_in_at_least_90_percent_of_trials_and_snips_beats_ips() -> None:
    truth = true_values()
    trials = 100
    estimates: dict[tuple[str, str], list[float]] = {}
    covered: dict[tuple[str, str], int] = {}
    for seed in range(trials):
        log, rows = logged_campaign(1500, np.random.default_rng(seed))
        evaluator = OffPolicyEvaluator(resamples=200, seed=seed)
        for name, make in CANDIDATES.items():
            for estimate in evaluator.evaluate(log, make(rows)):
                key = (name, estimate.estimator)
                estimates.setdefault(key, []).append(estimate.value)
                covered[key] = covered.get(key, 0) + int(estimate.low <= truth[name] <= estimate.high)
    for key, hits in covered.items():
        assert hits / trials >= 0.9, (key, hits)
    for name in CANDIDATES:
        assert np.var(estimates[(name, "SNIPS")]) < np.var(estimates[(name, "IPS")]), name
        # the estimators are centred on the truth
        for estimator in ("IPS", "SNIPS", "DR"):
            assert abs(np.mean(estimates[(name, estimator)]) - truth[name]) < 0.01, (name, estimator)


def test_on_policy_target_gives_the_logged_mean_with_full_effective_sample_size() -> None:
    log, _ = logged_campaign(800, np.random.default_rng(3))
    target = np.zeros((log.size, K))
    target[np.arange(log.size), log.actions] = log.propensities  # the logging policy itself, on chosen levers
    weights = target[np.arange(log.size), log.actions] / log.propensities
    assert np.allclose(weights, 1.0) and effective_sample_size(weights) == pytest.approx(log.size)
    ips, snips = OffPolicyEvaluator(["IPS", "SNIPS"], resamples=50).evaluate(log, target)
    assert ips.value == pytest.approx(log.rewards.mean()) and snips.value == pytest.approx(log.rewards.mean())
    logged = OffPolicyEvaluator(resamples=50).logged_value(log)
    assert logged.value == pytest.approx(log.rewards.mean()) and logged.low < logged.value < logged.high


def test_intervals_are_reproducible_for_a_seed() -> None:
    log, rows = logged_campaign(500, np.random.default_rng(4))
    first = OffPolicyEvaluator(seed=7, resamples=100).evaluate(log, rule_policy(rows))
    again = OffPolicyEvaluator(seed=7, resamples=100).evaluate(log, rule_policy(rows))
    other = OffPolicyEvaluator(seed=8, resamples=100).evaluate(log, rule_policy(rows))
    assert first == again and first != other


def test_ridge_reward_model_recovers_per_lever_linear_rewards() -> None:
    rng = np.random.default_rng(0)
    features = np.column_stack([np.ones(3000), rng.normal(size=3000)])
    actions = rng.integers(0, 2, 3000)
    rewards = np.where(actions == 0, 1.0 + 2.0 * features[:, 1], -1.0 * features[:, 1])
    log = LoggedBandit(("A", "B", "C"), features, actions, rewards, np.full(3000, 0.5), np.ones((3000, 3), bool))
    predicted = RidgeRewardModel(l2=1e-6).fit(log).predict(np.array([[1.0, 1.0]]))
    assert predicted[0, 0] == pytest.approx(3.0, abs=1e-4) and predicted[0, 1] == pytest.approx(-1.0, abs=1e-4)
    assert predicted[0, 2] == pytest.approx(rewards.mean())  # no row for C: the mean logged reward


def test_learned_policies_give_proper_probabilities_over_candidates_only() -> None:
    log, _ = logged_campaign(600, np.random.default_rng(5))
    mask = np.ones((log.size, K), bool)
    mask[:, 3] = False
    for kind in ("LIN_TS", "LIN_UCB", "EPSILON_GREEDY", "SOFTMAX", "THOMPSON", "RANDOM"):
        policy = trained(PolicyConfig(kind, seed=1), RETENTION.levers, log.features, log.actions, log.rewards)
        target = policy_probabilities(policy, log.features, mask, np.random.default_rng(0), samples=50)
        assert target.shape == (log.size, K) and np.allclose(target.sum(axis=1), 1.0), kind
        assert np.all(target[:, 3] == 0), kind
    assert np.allclose(uniform(mask)[:, :3], 1 / 3)
    assert np.allclose(greedy(np.array([[1.0, 1.0, 0.0, 5.0]]), mask[:1]), [[0.5, 0.5, 0.0, 0.0]])


def test_bad_configuration_names_the_field() -> None:
    with pytest.raises(InvalidPolicyConfig, match="estimators"):
        OffPolicyEvaluator(["MAGIC"])
    with pytest.raises(InvalidPolicyConfig, match="propensit"):
        LoggedBandit(("A",), np.ones((1, 1)), np.array([0]), np.array([1.0]), np.array([0.0]), np.ones((1, 1), bool))
