"""Off-policy evaluation: what a candidate policy would have earned on a logged decision log.

Estimators, for logged rows ``(x_i, a_i, r_i, p_i)`` with ``p_i`` the logging propensity and a
target policy given as probabilities ``pi(a | x_i)`` (an ``(n, k)`` matrix), weights
``w_i = pi(a_i | x_i) / p_i``:

* IPS: ``mean(w_i r_i)``; unbiased when every lever the target may choose had ``p > 0``.
* SNIPS: ``sum(w_i r_i) / sum(w_i)``; self-normalised, a little biased, lower variance.
* DR: ``mean(sum_a pi(a|x_i) q(x_i, a) + w_i (r_i - q(x_i, a_i)))`` with ``q`` a reward model
  fitted on the log (ridge regression per lever); unbiased if either the weights or ``q`` are right.

Each value comes with a 95% percentile bootstrap interval (rows resampled with replacement,
``resamples`` times, from a seeded generator; the reward model is not refitted per resample) and
the effective sample size ``(sum w)^2 / sum w^2`` of the weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.errors import InvalidPolicyConfig

ESTIMATORS = ("IPS", "SNIPS", "DR")
BOOTSTRAP_BLOCK = 100


@dataclass(frozen=True, slots=True)
class LoggedBandit:
    """Logged bandit feedback over ``levers``: ``actions`` index into ``levers``; ``candidates``
    is the ``(n, k)`` mask of levers the logging policy could choose on each row."""

    levers: tuple[str, ...]
    features: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    propensities: np.ndarray
    candidates: np.ndarray

    def __post_init__(self) -> None:
        n, k = len(self.actions), len(self.levers)
        if self.features.shape[0] != n or len(self.rewards) != n or len(self.propensities) != n:
            raise InvalidPolicyConfig("log", "features, actions, rewards and propensities must have one row each")
        if self.candidates.shape != (n, k):
            raise InvalidPolicyConfig("candidates", f"`candidates` must have shape {(n, k)}, got {self.candidates.shape}")
        if n and not np.all((self.propensities > 0) & (self.propensities <= 1)):
            raise InvalidPolicyConfig("propensities", "every logged propensity must be in (0, 1]")

    @property
    def size(self) -> int:
        return len(self.actions)

    def rows(self, index: np.ndarray | slice) -> LoggedBandit:
        return LoggedBandit(
            self.levers, self.features[index], self.actions[index], self.rewards[index],
            self.propensities[index], self.candidates[index],
        )


@dataclass(frozen=True, slots=True)
class Estimate:
    estimator: str
    value: float
    low: float
    high: float
    effective_sample_size: float


class RidgeRewardModel:
    """``q(x, a)``: a ridge regression of reward on the logged features, one per lever. A lever
    with no logged row predicts the mean logged reward."""

    def __init__(self, l2: float = 1.0) -> None:
        if l2 <= 0:
            raise InvalidPolicyConfig("l2", f"`l2` must be > 0, got {l2}")
        self.l2 = l2
        self._coefficients: np.ndarray | None = None
        self._fallback = 0.0

    def fit(self, log: LoggedBandit) -> RidgeRewardModel:
        d, k = log.features.shape[1], len(log.levers)
        self._fallback = float(log.rewards.mean()) if log.size else 0.0
        coefficients = np.zeros((k, d))
        for j in range(k):
            rows = log.actions == j
            if not rows.any():
                coefficients[j, 0] = self._fallback  # column 0 of an encoded row is the bias
                continue
            x, y = log.features[rows], log.rewards[rows]
            coefficients[j] = np.linalg.solve(x.T @ x + self.l2 * np.eye(d), x.T @ y)
        self._coefficients = coefficients
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        if self._coefficients is None:
            raise InvalidPolicyConfig("reward_model", "fit the reward model before predicting")
        return features @ self._coefficients.T


def importance_weights(target: np.ndarray, log: LoggedBandit) -> np.ndarray:
    """``pi(a_i | x_i) / p_i`` per logged row."""
    return target[np.arange(log.size), log.actions] / log.propensities


def effective_sample_size(weights: np.ndarray) -> float:
    squares = float(np.square(weights).sum())
    return float(weights.sum()) ** 2 / squares if squares > 0 else 0.0


def direct_method_terms(target: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """``sum_a pi(a|x_i) q(x_i, a)`` per row."""
    return (target * predicted).sum(axis=1)


@dataclass(slots=True)
class OffPolicyEvaluator:
    """Runs the chosen estimators with seeded bootstrap intervals."""

    estimators: Sequence[str] = ESTIMATORS
    resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    reward_model: Callable[[], RidgeRewardModel] = field(default=RidgeRewardModel)

    def __post_init__(self) -> None:
        unknown = [e for e in self.estimators if e not in ESTIMATORS]
        if unknown or not self.estimators:
            raise InvalidPolicyConfig("estimators", f"`estimators` must be some of {list(ESTIMATORS)}, got {list(self.estimators)}")
        if self.resamples < 10:
            raise InvalidPolicyConfig("resamples", f"`resamples` must be >= 10, got {self.resamples}")
        if not 0 < self.confidence < 1:
            raise InvalidPolicyConfig("confidence", f"`confidence` must be in (0, 1), got {self.confidence}")

    def evaluate(self, log: LoggedBandit, target: np.ndarray) -> list[Estimate]:
        """One ``Estimate`` per estimator, in the order asked, for the target policy's ``(n, k)``
        action probabilities on the logged rows."""
        if log.size == 0:
            raise InvalidPolicyConfig("log", "no logged row with a propensity to evaluate on")
        if target.shape != log.candidates.shape:
            raise InvalidPolicyConfig("target", f"`target` must have shape {log.candidates.shape}, got {target.shape}")
        weights = importance_weights(target, log)
        ess = effective_sample_size(weights)
        rng = np.random.default_rng(self.seed)
        samples = self._resample_indices(log.size, rng)
        found = []
        for name in self.estimators:
            if name == "SNIPS":
                numerator, denominator = weights * log.rewards, weights
            else:
                terms = weights * log.rewards
                if name == "DR":
                    predicted = self.reward_model().fit(log).predict(log.features)
                    chosen = predicted[np.arange(log.size), log.actions]
                    terms = direct_method_terms(target, predicted) + weights * (log.rewards - chosen)
                numerator, denominator = terms, np.ones(log.size)
            found.append(self._estimate(name, numerator, denominator, samples, ess))
        return found

    def logged_value(self, log: LoggedBandit) -> Estimate:
        """The logging policy's own average reward, with the same kind of interval."""
        if log.size == 0:
            raise InvalidPolicyConfig("log", "no logged row to evaluate on")
        samples = self._resample_indices(log.size, np.random.default_rng(self.seed))
        return self._estimate("LOGGED", log.rewards, np.ones(log.size), samples, float(log.size))

    def _resample_indices(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        blocks, left = [], self.resamples
        while left > 0:
            size = min(BOOTSTRAP_BLOCK, left)
            blocks.append(rng.integers(0, n, size=(size, n)))
            left -= size
        return blocks

    def _estimate(
        self, name: str, numerator: np.ndarray, denominator: np.ndarray, samples: list[np.ndarray], ess: float
    ) -> Estimate:
        total = float(denominator.sum())
        value = float(numerator.sum()) / total if total > 0 else 0.0
        draws = []
        for block in samples:
            den = denominator[block].sum(axis=1)
            num = numerator[block].sum(axis=1)
            draws.append(np.divide(num, den, out=np.zeros_like(num), where=den > 0))
        values = np.concatenate(draws)
        tail = (1.0 - self.confidence) / 2.0 * 100.0
        low, high = np.percentile(values, [tail, 100.0 - tail])
        return Estimate(name, value, float(low), float(high), ess)
