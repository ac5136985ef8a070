"""Propensity: the probability with which the served lever was chosen, given context and candidates.

Exact where the policy's choice distribution has a closed form:

* RANDOM: ``1 / k`` over the ``k`` candidates.
* EPSILON_GREEDY: ``(1 - eps) / t + eps / k`` for a lever among the ``t`` tied greedy candidates,
  ``eps / k`` for any other candidate (exploration is uniform over candidates, exploitation breaks
  ties uniformly).
* SOFTMAX: ``softmax(u / tau)`` over the candidates' utilities ``u``.
* LIN_UCB: deterministic, so ``1 / t`` for the ``t`` candidates tied at the maximum (random tie-break).

Estimated for THOMPSON and LIN_TS by resampling: draw ``M`` fresh posterior scores per row in one
batched call, apply the same utility and masked argmax as the served draw, and count how often the
served lever wins. The served draw is itself a draw from that distribution, so it is counted too:
``(1 + wins) / (M + 1)``. This is never 0, is at most 1, and its error is ``O(1/sqrt(M))``.
"""

from __future__ import annotations

import numpy as np


def uniform_propensity(mask: np.ndarray) -> np.ndarray:
    """``1 / k`` per row for ``k`` candidates."""
    return 1.0 / mask.sum(axis=1)


def tie_propensity(chosen: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """Propensity of a deterministic argmax whose ties are broken uniformly at random."""
    rows = np.arange(len(chosen))
    return np.where(ties[rows, chosen], 1.0 / ties.sum(axis=1), 0.0)


def epsilon_greedy_propensity(chosen: np.ndarray, greedy: np.ndarray, mask: np.ndarray, epsilon: float) -> np.ndarray:
    """Exact epsilon-greedy propensity; ``greedy`` is the ``(n, k)`` mask of tied best candidates."""
    return (1.0 - epsilon) * tie_propensity(chosen, greedy) + epsilon * uniform_propensity(mask)


def softmax_probabilities(utilities: np.ndarray, mask: np.ndarray, tau: float) -> np.ndarray:
    """Row-wise ``softmax(u / tau)`` over candidates; non-candidates get probability 0."""
    scaled = np.where(mask, utilities / tau, -np.inf)
    scaled -= scaled.max(axis=1, keepdims=True)  # stable: the largest exponent is exp(0)
    weights = np.exp(scaled)
    return weights / weights.sum(axis=1, keepdims=True)


def resampled_propensity(chosen: np.ndarray, resampled_choices: np.ndarray) -> np.ndarray:
    """``(1 + #{m : resample m picks the served lever}) / (M + 1)`` per row; ``resampled_choices`` is ``(n, M)``."""
    wins = (resampled_choices == chosen[:, None]).sum(axis=1)
    return (1.0 + wins) / (resampled_choices.shape[1] + 1.0)


def resampled_wins(chosen: np.ndarray, samples: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """``resampled_propensity(chosen, resampled_argmax(samples, mask, rng, break_ties=False))``
    without the ``(n, M)`` argmax: resample ``m`` picks the served lever ``c`` exactly when its
    draw beats every earlier candidate and ties or beats every later one (argmax keeps the first
    maximum). None when a draw is not finite, whose ordering is left to the argmax path."""
    if not np.isfinite(samples).all():
        return None
    n, m, k = samples.shape
    by_lever = np.ascontiguousarray(samples.transpose(2, 0, 1))  # (k, n, m): contiguous per lever
    own = by_lever[chosen, np.arange(n)]
    wins = np.ones((n, m), dtype=bool)
    for j in range(k):
        earlier = (chosen > j)[:, None]
        beaten = np.where(earlier, own > by_lever[j], own >= by_lever[j])
        wins &= beaten | ~mask[:, j : j + 1]
    return (1.0 + wins.sum(axis=1)) / (m + 1.0)
