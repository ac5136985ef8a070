"""95% intervals for rates, means and differences, from counts and sums alone.

- A proportion gets the Wilson score interval: it stays inside [0, 1] and keeps its coverage for
  small samples and for rates near 0 or 1, where the normal (Wald) interval does not.
- A mean gets the normal approximation: mean ± z·s/√n, with the sample variance
  s² = (Σx² − (Σx)²/n) / (n − 1) computed from the sums the database returns.
- A difference between two independent groups (a lever against the control) gets the normal
  approximation of the difference: (a − b) ± z·√(se_a² + se_b²), where a proportion's squared
  standard error is p(1 − p)/n and a mean's is s²/n.

An interval needs at least one observation for a proportion and two for a mean; otherwise it is
None (unknown), never a made-up width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


@dataclass(frozen=True, slots=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None


NONE = Estimate(None, None, None)


def wilson(successes: int, trials: int, z: float = Z95) -> Estimate:
    if trials <= 0:
        return NONE
    p = successes / trials
    z2 = z * z
    denominator = 1.0 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half))


def sample_variance(total: float, squares: float, n: int) -> float | None:
    if n < 2:
        return None
    # Rounding can leave a tiny negative number where every value is equal.
    return max(0.0, (squares - total * total / n) / (n - 1))


def mean(total: float, squares: float, n: int, z: float = Z95) -> Estimate:
    if n <= 0:
        return NONE
    centre = total / n
    variance = sample_variance(total, squares, n)
    if variance is None:
        return Estimate(centre, None, None)
    half = z * math.sqrt(variance / n)
    return Estimate(centre, centre - half, centre + half)


def difference_of_proportions(k1: int, n1: int, k0: int, n0: int, z: float = Z95) -> Estimate:
    if n1 <= 0 or n0 <= 0:
        return NONE
    p1, p0 = k1 / n1, k0 / n0
    half = z * math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return Estimate(p1 - p0, p1 - p0 - half, p1 - p0 + half)


def difference_of_means(
    total1: float, squares1: float, n1: int, total0: float, squares0: float, n0: int, z: float = Z95
) -> Estimate:
    if n1 <= 0 or n0 <= 0:
        return NONE
    diff = total1 / n1 - total0 / n0
    v1, v0 = sample_variance(total1, squares1, n1), sample_variance(total0, squares0, n0)
    if v1 is None or v0 is None:
        return Estimate(diff, None, None)
    half = z * math.sqrt(v1 / n1 + v0 / n0)
    return Estimate(diff, diff - half, diff + half)
