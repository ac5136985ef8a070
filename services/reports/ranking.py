"""The probability that each lever has the highest accept rate, by posterior Monte Carlo."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DRAWS = 10_000


def probability_best(
    accepted: Sequence[int], trials: Sequence[int], *, seed: int = 0, draws: int = DRAWS
) -> list[float]:
    """Each arm's accept rate has a Beta(1 + accepted, 1 + trials − accepted) posterior (uniform
    prior). Draw ``draws`` joint samples with a seeded generator and count how often each arm is
    the largest. The shares sum to 1; the same inputs and seed give the same answer."""
    if len(accepted) != len(trials):
        raise ValueError(f"accepted and trials differ in length: {len(accepted)} != {len(trials)}")
    if not accepted:
        return []
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    wins = np.asarray(accepted, dtype=float)
    n = np.asarray(trials, dtype=float)
    rng = np.random.default_rng(seed)
    samples = rng.beta(1.0 + wins, 1.0 + n - wins, size=(draws, len(wins)))
    best = np.bincount(samples.argmax(axis=1), minlength=len(wins))
    return [float(count) / draws for count in best]
