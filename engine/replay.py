"""Offline policy comparison by replay (Li, Chu, Langford and Wang, 2011).

On rows logged by a uniformly random policy, a candidate policy is run over the log in time order:
where it picks the lever that was logged, the logged reward counts and the policy learns it;
otherwise the row is skipped. Because the logged lever was uniform, the matched rows are an
unbiased sample of what the policy would have met online, learning included.
"""

from __future__ import annotations

import numpy as np

from engine.errors import InvalidPolicyConfig
from engine.evaluation import LoggedBandit
from engine.policies import Policy, PolicyKind
from engine.target_policies import policy_probabilities

UNIFORM_TOLERANCE = 1e-6


def uniformly_explored(log: LoggedBandit, tolerance: float = UNIFORM_TOLERANCE) -> np.ndarray:
    """Rows whose logged propensity is ``1 / candidates``: the only ones replay may use."""
    return np.abs(log.propensities - 1.0 / log.candidates.sum(axis=1)) <= tolerance


def replay(policy: Policy, log: LoggedBandit, rng: np.random.Generator, batch_size: int = 50) -> np.ndarray:
    """The rewards of the rows where ``policy`` (learning as it goes) chose the logged lever, in
    order. ``policy`` is changed in place; ``log`` must be uniformly explored and use its levers."""
    if tuple(policy.levers) != log.levers:
        raise InvalidPolicyConfig("levers", "the policy and the log must list the same levers in the same order")
    if batch_size < 1:
        raise InvalidPolicyConfig("batch_size", f"`batch_size` must be >= 1, got {batch_size}")
    # one posterior draw per row is exactly what a sampled policy does online
    samples = 1 if policy.config.kind in (PolicyKind.LIN_TS, PolicyKind.THOMPSON) else 100
    names = np.asarray(log.levers, dtype=object)
    matched: list[np.ndarray] = []
    for start in range(0, log.size, batch_size):
        rows = slice(start, start + batch_size)
        mask = log.candidates[rows].astype(bool)
        probabilities = policy_probabilities(policy, log.features[rows], mask, rng, samples)
        draw = rng.random((len(probabilities), 1)) * probabilities.sum(axis=1, keepdims=True)
        chosen = (probabilities.cumsum(axis=1) > draw).argmax(axis=1)
        hit = chosen == log.actions[rows]
        if hit.any():
            rewards = log.rewards[rows][hit]
            policy.learn(names[log.actions[rows][hit]], rewards, log.features[rows][hit])
            matched.append(rewards)
    return np.concatenate(matched) if matched else np.zeros(0)
