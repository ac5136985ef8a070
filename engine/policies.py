"""The MABWiser adapter: the only module of ``engine`` that imports mabwiser.

A ``Policy`` owns one MABWiser ``MAB`` and exposes it as arrays in a fixed lever order. Decisions are
made elsewhere (``engine.model``) from these arrays, so candidate masking never needs to patch MABWiser.

Choices documented here:

* Cold start: a new ``MAB`` is fitted on *no* data. Every arm then holds MABWiser's own neutral prior
  (ridge ``A = l2_lambda * I, b = 0``; Beta(1, 1); mean 0), so decisions work before any outcome and
  the first real outcomes are plain ``partial_fit`` calls. A full rebuild is the same ``partial_fit``
  applied to a fresh policy, which is why incremental and rebuilt models agree.
* Retiring a lever keeps its arm inside the ``MAB`` and masks it out of every candidate set, so a
  re-added lever comes back with its statistics and nothing else is touched. ``purge_lever`` is the
  explicit, irreversible ``remove_arm``; adding a lever never seen before is ``add_arm``.
* Three read-only accessors of MABWiser internals (learned means, Beta counts, ridge posteriors) and
  one write (``_share_rng``, see there) live at the bottom of this module, each covered by a test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

import numpy as np
from mabwiser.mab import MAB, LearningPolicy

from engine.errors import InvalidPolicyConfig, InvalidReward, ModelNotFitted, UnknownLever

MABWISER_NOT_FITTED = "Call fit before prediction"


class PolicyKind(str, Enum):
    LIN_TS = "LIN_TS"
    LIN_UCB = "LIN_UCB"
    EPSILON_GREEDY = "EPSILON_GREEDY"
    THOMPSON = "THOMPSON"
    SOFTMAX = "SOFTMAX"
    RANDOM = "RANDOM"

    @property
    def contextual(self) -> bool:
        return self in (PolicyKind.LIN_TS, PolicyKind.LIN_UCB)

    @property
    def sampled(self) -> bool:
        """Choices come from a posterior draw, so propensities are estimated by resampling."""
        return self in (PolicyKind.LIN_TS, PolicyKind.THOMPSON)


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """How a decision point explores. ``success_threshold`` binarises rewards for THOMPSON."""

    kind: PolicyKind
    alpha: float = 1.0
    epsilon: float = 0.1
    tau: float = 1.0
    l2_lambda: float = 1.0
    seed: int = 0
    propensity_samples: int = 100
    success_threshold: float | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", PolicyKind(self.kind))
        except ValueError:
            raise InvalidPolicyConfig("kind", f"`kind` must be one of {[k.value for k in PolicyKind]}, got {self.kind!r}")
        _require(self.alpha > 0, "alpha", f"`alpha` must be > 0, got {self.alpha}")
        _require(0 <= self.epsilon <= 1, "epsilon", f"`epsilon` must be in [0, 1], got {self.epsilon}")
        _require(self.tau > 0, "tau", f"`tau` must be > 0, got {self.tau}")
        _require(self.l2_lambda > 0, "l2_lambda", f"`l2_lambda` must be > 0, got {self.l2_lambda}")
        _require(isinstance(self.seed, int) and self.seed >= 0, "seed", f"`seed` must be an int >= 0, got {self.seed!r}")
        _require(
            isinstance(self.propensity_samples, int) and 1 <= self.propensity_samples <= 10_000,
            "propensity_samples",
            f"`propensity_samples` must be an int in [1, 10000], got {self.propensity_samples!r}",
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyConfig:
        return cls(**data)


def _require(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise InvalidPolicyConfig(field, message)


def _learning_policy(config: PolicyConfig) -> Any:
    kind = config.kind
    if kind is PolicyKind.LIN_TS:
        return LearningPolicy.LinTS(alpha=config.alpha, l2_lambda=config.l2_lambda)
    if kind is PolicyKind.LIN_UCB:
        return LearningPolicy.LinUCB(alpha=config.alpha, l2_lambda=config.l2_lambda)
    if kind is PolicyKind.EPSILON_GREEDY:
        return LearningPolicy.EpsilonGreedy(epsilon=config.epsilon)
    if kind is PolicyKind.THOMPSON:
        return LearningPolicy.ThompsonSampling()
    if kind is PolicyKind.SOFTMAX:
        return LearningPolicy.Softmax(tau=config.tau)
    return LearningPolicy.Random()


class Policy:
    """One MABWiser bandit over named levers, seen as ``(n, k)`` arrays in ``levers`` order."""

    def __init__(self, config: PolicyConfig, levers: Sequence[str], n_features: int) -> None:
        if not levers:
            raise InvalidPolicyConfig("levers", "`levers` must not be empty")
        if len(set(levers)) != len(levers):
            raise InvalidPolicyConfig("levers", f"`levers` must be unique, got {list(levers)}")
        self.config = config
        self.n_features = n_features
        self._levers: list[str] = list(levers)
        self._retired: set[str] = set()
        self._mab = MAB(list(levers), _learning_policy(config), seed=config.seed)
        contexts = np.empty((0, self._width)) if config.kind.contextual else None
        self._mab.fit(np.array([], dtype=object), np.array([], dtype=np.float64), contexts)
        _share_rng(self._mab)
        self._forget_derived()

    # Arrays derived from the levers and the learned state, kept between decisions and dropped on
    # every change (learn, add, retire, purge). They are never pickled: a restored policy rebuilds them.
    def _forget_derived(self) -> None:
        self._active: np.ndarray | None = None
        self._ridge: tuple[np.ndarray, np.ndarray] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_active"] = state["_ridge"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._forget_derived()

    @property
    def _width(self) -> int:
        # MABWiser's LinTS squeezes its (n, 1) coefficient draws to (n,) when d == 1 and then
        # broadcasts them into an (n, n) product, so a bias-only context gets a zero column.
        return max(self.n_features, 2)

    @property
    def levers(self) -> tuple[str, ...]:
        """Every lever the model knows, retired ones included, in column order."""
        return tuple(self._levers)

    @property
    def active(self) -> np.ndarray:
        """Boolean ``(k,)``, read-only: levers that may be chosen."""
        if self._active is None:
            active = np.array([lever not in self._retired for lever in self._levers])
            active.flags.writeable = False
            self._active = active
        return self._active

    def index(self, lever: str) -> int:
        try:
            return self._levers.index(lever)
        except ValueError:
            raise UnknownLever(lever) from None

    def add_lever(self, lever: str) -> None:
        """Make ``lever`` choosable: restores a retired lever with its statistics, else adds a cold arm."""
        if lever in self._retired:
            self._retired.discard(lever)
        elif lever not in self._levers:
            self._mab.add_arm(lever)
            self._levers.append(lever)
            _share_rng(self._mab)
        self._forget_derived()

    def retire_lever(self, lever: str) -> None:
        """Stop choosing ``lever`` but keep learning from its late outcomes and keep its statistics."""
        self.index(lever)
        self._retired.add(lever)
        self._forget_derived()

    def purge_lever(self, lever: str) -> None:
        """Forget ``lever`` and everything learned about it (MABWiser ``remove_arm``)."""
        self.index(lever)
        if len(self._levers) == 1:
            raise InvalidPolicyConfig("levers", "cannot purge the last lever")
        self._mab.remove_arm(lever)
        self._levers.remove(lever)
        self._retired.discard(lever)
        self._forget_derived()

    def _contexts(self, features: np.ndarray) -> np.ndarray:
        if features.shape[1] == self._width:
            return np.ascontiguousarray(features, dtype=np.float64)
        padded = np.zeros((features.shape[0], self._width))
        padded[:, : features.shape[1]] = features
        return padded

    def expectations(self, features: np.ndarray) -> np.ndarray:
        """MABWiser's ``predict_expectations`` for each row, as ``(n, k)``: one draw for sampled kinds."""
        try:
            raw = self._mab.predict_expectations(self._contexts(features))
        except Exception as exc:
            if str(exc) == MABWISER_NOT_FITTED:
                raise ModelNotFitted(self.config.kind.value) from exc
            raise
        rows: list[dict[Any, float]] = [raw] if isinstance(raw, dict) else raw
        k = len(self._levers)
        if list(rows[0]) == self._levers:
            flat = np.fromiter((v for row in rows for v in row.values()), dtype=np.float64, count=len(rows) * k)
            return flat.reshape(len(rows), k)
        return np.array([[row[lever] for lever in self._levers] for row in rows], dtype=np.float64)

    def resample(
        self,
        features: np.ndarray,
        samples: int,
        rng: np.random.Generator,
        moments: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Fresh posterior draws of every lever's score: ``(n, samples, k)``, or ``(1, samples, k)``
        for THOMPSON, whose draws do not depend on the context.

        LIN_TS draws from the exact marginal of MABWiser's score ``x . beta~`` with
        ``beta~ ~ N(beta, alpha^2 A^-1)``, i.e. ``N(x . beta, alpha^2 x' A^-1 x)``, independently per
        lever: the same distribution at O(k d^2) per row instead of a d-variate normal per resample.
        ``moments`` may pass ``linear_moments(features)`` when the caller already has them.
        """
        kind = self.config.kind
        if kind is PolicyKind.THOMPSON:
            return self.expectations(np.zeros((samples, 1)))[None, :, :]
        if kind is not PolicyKind.LIN_TS:
            raise InvalidPolicyConfig("kind", f"{kind.value} is not a sampled policy")
        mean, std = moments if moments is not None else self.linear_moments(features)
        draws = rng.standard_normal((features.shape[0], samples, len(self._levers)))
        draws *= std[:, None, :]
        draws += mean[:, None, :]
        return draws

    def linear_moments(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """LIN_TS / LIN_UCB: posterior mean ``x . beta`` and score std ``alpha sqrt(x' A^-1 x)``, each ``(n, k)``."""
        contexts = self._contexts(features)
        if self._ridge is None:
            posteriors = _ridge_posteriors(self._mab, self._levers)
            self._ridge = (np.stack([beta for beta, _ in posteriors]), np.stack([a_inv for _, a_inv in posteriors]))
        betas, a_invs = self._ridge
        mean = contexts @ betas.T
        # (k, n, d) products x A_k^-1, then the row-wise dot with x: x' A_k^-1 x per row and lever
        var = np.einsum("knd,nd->nk", contexts @ a_invs, contexts)
        return mean, self.config.alpha * np.sqrt(np.maximum(var, 0.0))

    def point_estimates(self, features: np.ndarray) -> np.ndarray:
        """The policy's mean reward estimate per row and lever, ``(n, k)`` (no exploration bonus)."""
        kind, n = self.config.kind, features.shape[0]
        if kind.contextual:
            return self.linear_moments(features)[0]
        if kind is PolicyKind.THOMPSON:
            successes, failures = _beta_counts(self._mab, self._levers)
            return np.broadcast_to(successes / (successes + failures), (n, len(self._levers)))
        if kind is PolicyKind.RANDOM:
            return np.zeros((n, len(self._levers)))
        return np.broadcast_to(self.means(), (n, len(self._levers)))

    def means(self) -> np.ndarray:
        """Learned mean reward per lever for EPSILON_GREEDY and SOFTMAX (0 before any outcome)."""
        return _arm_means(self._mab, self._levers)

    def learn(self, levers: Sequence[str] | np.ndarray, rewards: np.ndarray, features: np.ndarray) -> None:
        """Apply outcomes with MABWiser ``partial_fit``; raises before changing anything."""
        decisions = np.asarray(levers, dtype=object)
        rewards = np.asarray(rewards, dtype=np.float64)
        if len(decisions) == 0:
            return
        unknown = set(decisions.tolist()) - set(self._levers)
        if unknown:
            raise UnknownLever(sorted(unknown)[0])
        if not np.all(np.isfinite(rewards)):
            raise InvalidReward(float(rewards[~np.isfinite(rewards)][0]), "rewards must be finite")
        if self.config.kind is PolicyKind.THOMPSON:
            rewards = self._binary(rewards)
        contexts = self._contexts(features) if self.config.kind.contextual else None
        self._mab.partial_fit(decisions, rewards, contexts)
        _share_rng(self._mab)
        self._forget_derived()

    def _binary(self, rewards: np.ndarray) -> np.ndarray:
        threshold = self.config.success_threshold
        if threshold is not None:
            return (rewards > threshold).astype(np.float64)
        bad = rewards[(rewards != 0.0) & (rewards != 1.0)]
        if bad.size:
            raise InvalidReward(
                float(bad[0]), "THOMPSON learns 0/1 rewards; set `success_threshold` to binarise revenue"
            )
        return rewards


# --- MABWiser internals, read-only. Each accessor is cross-checked against public output in tests. ---


def _arm_means(mab: MAB, levers: Sequence[str]) -> np.ndarray:
    # EpsilonGreedy keeps its means as `arm_to_expectation`; Softmax turns those into softmax
    # probabilities and keeps the means as `arm_to_mean`.
    imp = mab._imp
    table = imp.arm_to_mean if hasattr(imp, "arm_to_mean") else imp.arm_to_expectation
    return np.array([float(table[lever]) for lever in levers])


def _beta_counts(mab: MAB, levers: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    imp = mab._imp
    return (
        np.array([float(imp.arm_to_success_count[lever]) for lever in levers]),
        np.array([float(imp.arm_to_fail_count[lever]) for lever in levers]),
    )


def _ridge_posteriors(mab: MAB, levers: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    models = mab._imp.arm_to_model
    return [(models[lever].beta, models[lever].A_inv) for lever in levers]


def _share_rng(mab: MAB) -> None:
    # MABWiser's `_Linear._fit_arm` deep-copies each arm's regression *including its RNG*, so arms
    # first fitted in the same batch replay one identical normal stream and their LinTS draws are
    # almost perfectly correlated (0.93-0.99 measured). Thompson sampling needs independent draws per
    # arm, and our propensities assume them, so every arm is pointed back at the policy's seeded RNG.
    # Sharing survives pickle and deepcopy, which memoise the common object.
    models = getattr(mab._imp, "arm_to_model", None)
    if models is None:
        return
    for model in models.values():
        model.rng = mab._imp.rng
