"""Replay on a uniformly explored log: a learning policy beats uniform on a heterogeneous scenario."""

from __future__ import annotations

import numpy as np

from engine.evaluation import LoggedBandit
from engine.features import FeatureEncoder
from engine.policies import Policy, PolicyConfig
from engine.replay import replay, uniformly_explored
from engine.scenarios import FEATURES, scenario

SCENARIO = scenario("heterogeneous")
K = len(SCENARIO.levers)


def uniform_log(n: int, seed: int) -> LoggedBandit:
    rng = np.random.default_rng(seed)
    cohort = SCENARIO.draw(n, rng)
    encoder = FeatureEncoder.fit(FEATURES, cohort.rows[:2000])
    actions = rng.integers(0, K, n)
    rewards = (rng.random(n) < cohort.acceptance[np.arange(n), actions]).astype(float)
    return LoggedBandit(SCENARIO.levers, encoder.encode_many(cohort.rows), actions, rewards, np.full(n, 1 / K), np.ones((n, K), bool))


def test_replay_matches_about_one_row_in_k_and_lin_ucb_earns_more_per_match_than_random() -> None:
    log = uniform_log(15_000, seed=1)
    assert uniformly_explored(log).all()
    means = {}
    for kind in ("LIN_UCB", "RANDOM"):
        policy = Policy(PolicyConfig(kind, alpha=0.5, seed=2), SCENARIO.levers, log.features.shape[1])
        rewards = replay(policy, log, np.random.default_rng(3))
        assert abs(len(rewards) - log.size / K) < 0.1 * log.size / K
        means[kind] = rewards.mean()
    assert abs(means["RANDOM"] - log.rewards.mean()) < 0.02
    assert means["LIN_UCB"] > 1.3 * means["RANDOM"]


def test_rows_logged_with_non_uniform_propensity_are_not_replayable() -> None:
    log = uniform_log(10, seed=0)
    skewed = LoggedBandit(log.levers, log.features, log.actions, log.rewards,
                          np.where(np.arange(10) < 4, 0.5, 1 / K), log.candidates)
    assert uniformly_explored(skewed).tolist() == [False] * 4 + [True] * 6
