"""Picking the best candidate lever per row, with ties broken at random.

A plain ``argmax`` favours the first lever whenever scores tie, which happens at every cold start
(all priors equal) and would bias both learning and the logged propensities.
"""

from __future__ import annotations

import math

import numpy as np

# scores this close to the row maximum count as tied (relative to the magnitude of the maximum)
TIE_TOLERANCE = 1e-12


def tied_maxima(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Boolean ``(n, k)``: candidates whose score equals the row's best candidate score."""
    masked = np.where(mask, scores, -np.inf)
    best = masked.max(axis=1, keepdims=True)
    return mask & (masked >= best - TIE_TOLERANCE * np.maximum(1.0, np.abs(best)))


def masked_argmax(scores: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Index of the best candidate per row and the ``(n, k)`` tie mask it was drawn from.

    Every tied candidate is equally likely, so the propensity of a deterministic choice is
    ``1 / ties.sum(axis=1)``.
    """
    if len(scores) == 1:
        one = _one_row_ties(scores, mask)
        if one is not None:
            # Same draws as the array path below (one uniform per lever), same first-maximum pick.
            keys = rng.random(scores.shape)[0].tolist()
            best = max(range(len(one)), key=lambda j: keys[j] if one[j] else -1.0)
            return np.array([best]), np.array([one])
    ties = tied_maxima(scores, mask)
    keys = np.where(ties, rng.random(scores.shape), -1.0)
    return keys.argmax(axis=1), ties


def _one_row_ties(scores: np.ndarray, mask: np.ndarray) -> list[bool] | None:
    """``tied_maxima`` of a single row with plain floats (a single decision pays for every numpy
    call); None for a row with a NaN, which is left to the array path."""
    values, allowed = scores[0].tolist(), mask[0].tolist()
    candidates = [v for v, on in zip(values, allowed) if on]
    if not candidates or any(math.isnan(v) for v in candidates):
        return None
    best = max(candidates)
    floor = best - TIE_TOLERANCE * max(1.0, abs(best))
    return [on and v >= floor for v, on in zip(values, allowed)]


def resampled_argmax(
    samples: np.ndarray, mask: np.ndarray, rng: np.random.Generator, break_ties: bool = True
) -> np.ndarray:
    """Best candidate of each resample, ``(n, m, k) -> (n, m)``, ties broken at random.

    Raw posterior draws are continuous (ties have probability 0, so ``break_ties=False`` is exact),
    but arbitration clips acceptance to [0, 1], which can tie.
    """
    masked = np.where(mask[:, None, :], samples, -np.inf)
    if not break_ties:
        return masked.argmax(axis=2)
    best = masked.max(axis=2, keepdims=True)
    ties = masked >= best - TIE_TOLERANCE * np.maximum(1.0, np.abs(best))
    keys = np.where(ties, rng.random(samples.shape), -1.0)
    return keys.argmax(axis=2)
