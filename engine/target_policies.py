"""Target policies for off-policy evaluation, as ``(n, k)`` action probabilities on logged rows.

A learned policy is evaluated as it would serve, exploration included: EPSILON_GREEDY and SOFTMAX
by their closed forms, LIN_UCB as its deterministic argmax (ties shared), RANDOM uniform, and
THOMPSON / LIN_TS by the share of ``samples`` posterior draws each lever wins.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.errors import InvalidPolicyConfig
from engine.policies import Policy, PolicyConfig, PolicyKind
from engine.propensity import softmax_probabilities
from engine.selection import resampled_argmax, tied_maxima

CHUNK = 2000


def always(lever: int, candidates: np.ndarray) -> np.ndarray:
    """Every row gets lever ``lever``."""
    target = np.zeros(candidates.shape)
    target[:, lever] = 1.0
    return target


def uniform(candidates: np.ndarray) -> np.ndarray:
    """Uniform over each row's candidate levers."""
    mask = candidates.astype(np.float64)
    return mask / mask.sum(axis=1, keepdims=True)


def greedy(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The best-scoring candidate per row; tied candidates share the row's mass."""
    ties = tied_maxima(scores, candidates).astype(np.float64)
    return ties / ties.sum(axis=1, keepdims=True)


def trained(config: PolicyConfig, levers: Sequence[str], features: np.ndarray, actions: np.ndarray, rewards: np.ndarray) -> Policy:
    """A fresh policy of ``config`` that learned the rows (``actions`` index into ``levers``) in order."""
    policy = Policy(config, levers, features.shape[1])
    names = np.asarray(levers, dtype=object)
    for start in range(0, len(actions), CHUNK):
        stop = start + CHUNK
        policy.learn(names[actions[start:stop]], rewards[start:stop], features[start:stop])
    return policy


def policy_probabilities(
    policy: Policy, features: np.ndarray, candidates: np.ndarray, rng: np.random.Generator, samples: int = 200
) -> np.ndarray:
    """``pi(a | x)`` of ``policy`` on each row, restricted to the row's candidates."""
    if samples < 1:
        raise InvalidPolicyConfig("samples", f"`samples` must be >= 1, got {samples}")
    mask = candidates.astype(bool)
    kind, n, k = policy.config.kind, len(features), len(policy.levers)
    if kind is PolicyKind.RANDOM:
        return uniform(mask)
    if kind is PolicyKind.EPSILON_GREEDY:
        means = np.broadcast_to(policy.means(), (n, k))
        eps = policy.config.epsilon
        return (1.0 - eps) * greedy(means, mask) + eps * uniform(mask)
    if kind is PolicyKind.SOFTMAX:
        return softmax_probabilities(np.broadcast_to(policy.means(), (n, k)), mask, policy.config.tau)
    if kind is PolicyKind.LIN_UCB:
        return greedy(policy.expectations(features), mask)
    out = np.zeros((n, k))
    for start in range(0, n, CHUNK):
        rows = slice(start, start + CHUNK)
        draws = policy.resample(features[rows], samples, rng)
        draws = np.broadcast_to(draws, (len(features[rows]), samples, k))
        winners = resampled_argmax(draws, mask[rows], rng, break_ties=False)
        out[rows] = (winners[:, :, None] == np.arange(k)).mean(axis=1)
    return out
