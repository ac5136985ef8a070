"""Off-policy evaluation of a candidate policy on a decision point's log (``policyEvaluation``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine import EngineError, InvalidPolicyConfig, InvalidReward
from engine.evaluation import Estimate, LoggedBandit, OffPolicyEvaluator
from engine.policies import Policy
from engine.target_policies import always, policy_probabilities, trained, uniform
from services.errors import InvalidInput
from services.evaluation.point_log import PointLog, load_point_log
from services.evaluation.values import (
    BOOTSTRAP_RESAMPLES,
    CANDIDATE_KINDS,
    ESTIMATORS,
    PolicyCandidate,
    PolicyEstimate,
    PolicyEvaluation,
)
from services.offers import mapping
from services.offers.registry import ModelRegistry

POLICY_SAMPLES = 200


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def check_candidate(candidate: PolicyCandidate, levers: Sequence[str]) -> None:
    if candidate.kind not in CANDIDATE_KINDS:
        raise InvalidInput("candidate.kind", f"must be one of {', '.join(CANDIDATE_KINDS)}, got {candidate.kind!r}")
    if candidate.kind == "POLICY":
        if candidate.policy is None:
            raise InvalidInput("candidate.policy", "is required for a POLICY candidate")
        if not 0 < candidate.split < 1:
            raise InvalidInput("candidate.split", f"must be between 0 and 1 (exclusive), got {candidate.split}")
    if candidate.kind == "ALWAYS" and candidate.lever not in levers:
        raise InvalidInput("candidate.lever", f"{candidate.lever!r} is not a lever of this decision point")


def trained_policy(candidate: PolicyCandidate, log: PointLog, rows: slice) -> Policy:
    """The candidate configuration trained on ``rows`` of the log (propensities not needed)."""
    assert candidate.policy is not None
    try:
        config = mapping.engine_policy(candidate.policy)
        return trained(config, log.levers, log.features[rows], log.actions[rows], log.rewards[rows])
    except InvalidPolicyConfig as exc:
        raise InvalidInput(f"candidate.policy.{_camel(exc.field)}", exc.message) from None
    except InvalidReward as exc:
        raise InvalidInput("candidate.policy.successThreshold", str(exc)) from None


def served_probabilities(policy: Policy, log: LoggedBandit, rng: np.random.Generator) -> np.ndarray:
    """``policy``'s action probabilities on the log's rows and levers (levers it lacks get 0)."""
    own = list(policy.levers)
    mask = np.zeros((log.size, len(own)), dtype=bool)
    position = [own.index(lever) if lever in own else -1 for lever in log.levers]
    for j, p in enumerate(position):
        if p >= 0:
            mask[:, p] = log.candidates[:, j]
    empty = ~mask.any(axis=1)
    mask[empty] = True  # no candidate it knows: let it choose among its own levers
    probabilities = policy_probabilities(policy, log.features, mask, rng, POLICY_SAMPLES)
    out = np.zeros(log.candidates.shape)
    for j, p in enumerate(position):
        if p >= 0:
            out[:, j] = probabilities[:, p]
    return out


def _estimate(e: Estimate) -> PolicyEstimate:
    return PolicyEstimate(e.estimator, e.value, e.low, e.high, e.effective_sample_size)


class PolicyEvaluations:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], registry: ModelRegistry) -> None:
        self._sessions = sessionmaker
        self.registry = registry

    async def evaluate(
        self,
        point_key: str,
        candidate: PolicyCandidate,
        estimators: Sequence[str] = ESTIMATORS,
        since: datetime | None = None,
        until: datetime | None = None,
        seed: int = 0,
    ) -> PolicyEvaluation:
        """Estimate what ``candidate`` would have earned per decision on the logged decisions of
        ``point_key`` (created in [since, until)), by each estimator, beside the logged policy's own
        value. Rows without a propensity are excluded and counted, as are rows of older versions."""
        if not estimators or any(e not in ESTIMATORS for e in estimators):
            raise InvalidInput("estimators", f"must be some of {', '.join(ESTIMATORS)}, got {list(estimators)}")
        if seed < 0:
            raise InvalidInput("seed", f"must be >= 0, got {seed}")
        log = await load_point_log(self._sessions, point_key, since, until)
        check_candidate(candidate, log.levers)
        training = slice(0, 0)
        if candidate.kind == "POLICY":
            training = slice(0, int(round(candidate.split * log.size)))
        evaluation = slice(training.stop, log.size)
        known = log.known(evaluation) + training.stop
        without = (log.size - training.stop) - len(known)
        if len(known) == 0:
            raise InvalidInput("decisionPoint", f"no logged decision of {point_key!r} with an outcome and a propensity to evaluate on")
        bandit = log.bandit(known)
        rng = np.random.default_rng(seed)
        if candidate.kind == "ALWAYS":
            target = always(log.levers.index(candidate.lever or ""), bandit.candidates)
        elif candidate.kind == "UNIFORM_RANDOM":
            target = uniform(bandit.candidates)
        elif candidate.kind == "CURRENT_MODEL":
            served = await self.registry.serving(log.point)
            target = served_probabilities(served.learner.model.policy, bandit, rng)
        else:
            policy = trained_policy(candidate, log, training)
            target = served_probabilities(policy, bandit, rng)
        evaluator = OffPolicyEvaluator(tuple(estimators), resamples=BOOTSTRAP_RESAMPLES, seed=seed)
        try:
            found, logged = await asyncio.to_thread(
                lambda: (evaluator.evaluate(bandit, target), evaluator.logged_value(bandit))
            )
        except EngineError as exc:  # pragma: no cover - inputs are checked above
            raise InvalidInput("candidate", str(exc)) from None
        return PolicyEvaluation(
            decision_point=point_key,
            candidate=candidate.describe(),
            rows=log.size + log.other_version,
            evaluated=bandit.size,
            training_rows=training.stop,
            excluded_without_propensity=without,
            excluded_other_version=log.other_version,
            logged=_estimate(logged),
            estimates=tuple(_estimate(e) for e in found),
        )
