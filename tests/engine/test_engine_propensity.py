from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.features import FeatureEncoder
from engine.model import OfferModel
from engine.policies import PolicyConfig, PolicyKind
from engine.propensity import epsilon_greedy_propensity, resampled_propensity, softmax_probabilities, tie_propensity
from engine.selection import masked_argmax, tied_maxima


def test_thompson_monte_carlo_propensity_matches_beta_analytic_value() -> None:
    # Beta(2, 1) beats Beta(1, 1) with probability integral_0^1 2x * x dx = 2/3
    model = OfferModel(PolicyConfig(PolicyKind.THOMPSON, propensity_samples=4000), FeatureEncoder([]), ("A", "B"))
    model.learn(["A"], [1.0], np.ones((1, 1)))
    choices = model.decide([{}] * 400, rng=0)
    estimate = np.mean([c.propensity if c.lever == "A" else 1 - c.propensity for c in choices])
    assert estimate == pytest.approx(2 / 3, abs=0.01)


def test_lin_ts_monte_carlo_propensity_matches_normal_analytic_value() -> None:
    model = OfferModel(PolicyConfig(PolicyKind.LIN_TS, alpha=0.8, propensity_samples=4000), FeatureEncoder([]), ("A", "B"))
    model.learn(["A"] * 3 + ["B"] * 2, [1.0, 1.0, 0.0, 0.0, 1.0], np.ones((5, 1)))
    # bias-only context: score_a ~ N(sum_a / (n_a + 1), alpha^2 / (n_a + 1))
    mean_a, var_a, mean_b, var_b = 2 / 4, 0.64 / 4, 1 / 3, 0.64 / 3
    analytic = 0.5 * (1 + math.erf((mean_a - mean_b) / math.sqrt(2 * (var_a + var_b))))
    choices = model.decide([{}] * 300, rng=1)
    estimate = np.mean([c.propensity if c.lever == "A" else 1 - c.propensity for c in choices])
    assert estimate == pytest.approx(analytic, abs=0.01)
    assert sum(c.lever == "A" for c in choices) / 300 == pytest.approx(analytic, abs=0.08)


def test_resampled_propensity_counts_the_served_draw_so_it_is_never_zero() -> None:
    chosen = np.array([0, 1])
    resampled = np.array([[1, 1, 1], [1, 1, 1]])
    assert resampled_propensity(chosen, resampled).tolist() == [0.25, 1.0]


def test_tie_propensity_shares_probability_among_tied_maxima() -> None:
    scores = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
    mask = np.ones((2, 3), dtype=bool)
    chosen, ties = masked_argmax(scores, mask, np.random.default_rng(0))
    assert tie_propensity(chosen, ties).tolist() == [0.5, 1.0]


mask_strategy = arrays(bool, (6, 5), elements=st.booleans()).filter(lambda m: bool(m.any(axis=1).all()))
score_strategy = arrays(float, (6, 5), elements=st.sampled_from([0.0, 0.25, 0.5, 1.0]))


@settings(max_examples=80, deadline=None)
@given(score_strategy, mask_strategy, st.floats(0, 1), st.floats(0.01, 10))
def test_exact_propensities_sum_to_one_over_candidates(scores: np.ndarray, mask: np.ndarray, epsilon: float, tau: float) -> None:
    k = scores.shape[1]
    greedy = tied_maxima(scores, mask)
    total = sum(np.where(mask[:, j], epsilon_greedy_propensity(np.full(6, j), greedy, mask, epsilon), 0.0) for j in range(k))
    np.testing.assert_allclose(total, 1.0)
    probabilities = softmax_probabilities(scores, mask, tau)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert np.all(probabilities[~mask] == 0) and np.all(probabilities[mask] > 0)


@settings(max_examples=50, deadline=None)
@given(score_strategy, mask_strategy, st.integers(0, 2**32 - 1))
def test_masked_argmax_only_picks_tied_best_candidates(scores: np.ndarray, mask: np.ndarray, seed: int) -> None:
    chosen, ties = masked_argmax(scores, mask, np.random.default_rng(seed))
    rows = np.arange(len(chosen))
    assert mask[rows, chosen].all() and ties[rows, chosen].all()
    best = np.where(mask, scores, -np.inf).max(axis=1)
    np.testing.assert_array_equal(scores[rows, chosen], best)


@settings(max_examples=200, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 12), st.integers(1, 20), st.integers(1, 5)),
    seed=st.integers(0, 2**32 - 1),
    coarse=st.booleans(),
)
def test_counted_wins_equal_the_resampled_argmax_propensity_ties_included(shape: tuple[int, int, int], seed: int, coarse: bool) -> None:
    from engine.propensity import resampled_wins
    from engine.selection import resampled_argmax

    n, m, k = shape
    rng = np.random.default_rng(seed)
    samples = rng.standard_normal((n, m, k))
    if coarse:  # rounded draws tie often: the first maximum must win, as argmax decides
        samples = np.round(samples)
    mask = rng.random((n, k)) < 0.6
    mask[np.arange(n), rng.integers(0, k, n)] = True
    chosen = np.array([rng.choice(np.flatnonzero(row)) for row in mask])
    expected = resampled_propensity(chosen, resampled_argmax(samples, mask, rng, break_ties=False))
    np.testing.assert_array_equal(resampled_wins(chosen, samples, mask), expected)


def test_counted_wins_leave_non_finite_draws_to_the_argmax() -> None:
    from engine.propensity import resampled_wins

    samples = np.zeros((2, 3, 2))
    samples[1, 0, 1] = np.nan
    assert resampled_wins(np.array([0, 1]), samples, np.ones((2, 2), dtype=bool)) is None


def test_lin_ts_propensities_resampled_by_blocks_equal_one_resampling_of_every_row() -> None:
    from engine import model as model_module
    from engine.policies import Policy
    from engine.selection import resampled_argmax

    policy = Policy(PolicyConfig(PolicyKind.LIN_TS, alpha=0.5, seed=1), ["A", "B", "C"], 4)
    rng = np.random.default_rng(11)
    policy.learn(rng.choice(["A", "B", "C"], 50), rng.random(50), rng.random((50, 4)))
    rows = model_module.RESAMPLE_BLOCK * 2 + 7
    features = rng.random((rows, 4))
    mask = rng.random((rows, 3)) < 0.7
    mask[np.arange(rows), rng.integers(0, 3, rows)] = True
    chosen = np.array([rng.choice(np.flatnonzero(row)) for row in mask])
    moments = policy.linear_moments(features)
    whole = np.random.default_rng(5)
    draws = policy.resample(features, 40, whole, moments)
    expected = resampled_propensity(chosen, resampled_argmax(draws, mask, whole, break_ties=False))
    blocks = np.random.default_rng(5)
    np.testing.assert_array_equal(model_module._linear_propensity(policy, features, 40, blocks, moments, chosen, mask), expected)
    assert whole.random() == blocks.random()  # the stream is left where one resampling leaves it
