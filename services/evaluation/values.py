"""Frozen evaluation values passed from the services to the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from services.offers.values import Policy

CANDIDATE_KINDS = ("POLICY", "CURRENT_MODEL", "ALWAYS", "UNIFORM_RANDOM")
ESTIMATORS = ("IPS", "SNIPS", "DR")
BOOTSTRAP_RESAMPLES = 1000
INTERVAL_METHOD = f"95% percentile bootstrap: {BOOTSTRAP_RESAMPLES} resamples of the evaluated rows, drawn from the seed"


@dataclass(frozen=True, slots=True)
class PolicyCandidate:
    """What to evaluate: a policy configuration (trained on the older ``split`` share of the log,
    evaluated on the rest), the decision point's current model, always one ``lever``, or uniform."""

    kind: str
    policy: Policy | None = None
    lever: str | None = None
    split: float = 0.7

    def describe(self) -> str:
        if self.kind == "POLICY" and self.policy is not None:
            return f"{self.policy.kind} trained on the oldest {self.split:.0%} of the log"
        if self.kind == "ALWAYS":
            return f"always {self.lever}"
        return {"CURRENT_MODEL": "the current model", "UNIFORM_RANDOM": "uniform random"}.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class PolicyEstimate:
    estimator: str
    value: float
    low: float
    high: float
    effective_sample_size: float


@dataclass(frozen=True, slots=True)
class PolicyEvaluation:
    """``rows``: logged decisions with an outcome in the window. Of those, ``evaluated`` entered the
    estimates; ``training_rows`` trained a POLICY candidate; the rest were excluded and counted."""

    decision_point: str
    candidate: str
    rows: int
    evaluated: int
    training_rows: int
    excluded_without_propensity: int
    excluded_other_version: int
    logged: PolicyEstimate
    estimates: tuple[PolicyEstimate, ...]
    interval_method: str = INTERVAL_METHOD


@dataclass(frozen=True, slots=True)
class PolicyReplay:
    """One policy replayed on the uniformly explored newer part of the log (Li et al. replay):
    ``matched`` rows where it chose the logged lever, their mean reward and cumulative curve."""

    policy: str
    matched: int
    mean_reward: float
    cumulative_reward: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PolicyComparison:
    decision_point: str
    rows: int
    training_rows: int
    replay_rows: int
    excluded_not_uniform: int
    replays: tuple[PolicyReplay, ...]
