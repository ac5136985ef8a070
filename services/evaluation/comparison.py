"""Offline comparison of policy kinds by replay on a decision point's log (``ciclo compare``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.evaluation import LoggedBandit
from engine.replay import replay, uniformly_explored
from services.errors import InvalidInput
from services.evaluation.point_log import PointLog, load_point_log
from services.evaluation.policy_evaluation import trained_policy
from services.evaluation.values import PolicyCandidate, PolicyComparison, PolicyReplay
from services.offers.values import POLICY_KINDS, Policy

LOGGED = "LOGGED"


def _replays(log: PointLog, kinds: Sequence[str], split: float, seed: int, base: Policy) -> PolicyComparison:
    cut = int(round(split * log.size))
    newer = np.arange(cut, log.size)
    newer = newer[~np.isnan(log.propensities[newer])]
    uniform_rows = newer[uniformly_explored(log.bandit(newer))] if len(newer) else newer
    if len(uniform_rows) == 0:
        raise InvalidInput(
            "split", "no uniformly explored decision (propensity 1/candidates) after the split point to replay on"
        )
    bandit: LoggedBandit = log.bandit(uniform_rows)
    replays = [PolicyReplay(LOGGED, bandit.size, float(bandit.rewards.mean()), tuple(np.cumsum(bandit.rewards).tolist()))]
    for offset, kind in enumerate(kinds):
        candidate = PolicyCandidate("POLICY", Policy(kind, alpha=base.alpha, epsilon=base.epsilon, tau=base.tau,
                                                     l2_lambda=base.l2_lambda, seed=seed), split=split)
        try:
            policy = trained_policy(candidate, log, slice(0, cut))
        except InvalidInput as exc:
            raise InvalidInput("policies", f"{kind}: {exc.reason}") from None
        rewards = replay(policy, bandit, np.random.default_rng([seed, offset]))
        mean = float(rewards.mean()) if len(rewards) else 0.0
        replays.append(PolicyReplay(kind, len(rewards), mean, tuple(np.cumsum(rewards).tolist())))
    return PolicyComparison(
        decision_point=log.point.key,
        rows=log.size + log.other_version,
        training_rows=cut,
        replay_rows=bandit.size,
        excluded_not_uniform=(log.size - cut) - bandit.size,
        replays=tuple(replays),
    )


class PolicyComparisons:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessionmaker

    async def compare(
        self,
        point_key: str,
        kinds: Sequence[str],
        split: float = 0.7,
        seed: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> PolicyComparison:
        """Train each policy kind on the oldest ``split`` share of the log (decision point's own
        alpha/epsilon/tau), then replay it on the uniformly explored rows after that point. The
        first entry is the logged (uniform) policy itself."""
        if not kinds or any(k not in POLICY_KINDS for k in kinds):
            raise InvalidInput("policies", f"must be some of {', '.join(POLICY_KINDS)}, got {list(kinds)}")
        if len(set(kinds)) != len(kinds):
            raise InvalidInput("policies", "lists a policy twice")
        if not 0 <= split < 1:
            raise InvalidInput("split", f"must be in [0, 1), got {split}")
        if seed < 0:
            raise InvalidInput("seed", f"must be >= 0, got {seed}")
        log = await load_point_log(self._sessions, point_key, since, until)
        return await asyncio.to_thread(_replays, log, list(kinds), split, seed, log.point.policy)
