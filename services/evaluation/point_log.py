"""A decision point's logged decisions with outcomes, as arrays the engine's estimators take.

Only rows logged under the point's current configuration version are usable: their feature
vectors were encoded by the current encoder. Rows of older versions are counted, not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import decision_log as log_repo
from db.repositories import offers as offer_repo
from engine.evaluation import LoggedBandit
from services.errors import InvalidInput
from services.offers import mapping
from services.offers.errors import UnknownDecisionPoint
from services.offers.values import DecisionPoint


@dataclass(frozen=True, slots=True)
class PointLog:
    """Rows in time order; ``propensities`` is NaN where the log has none."""

    point: DecisionPoint
    levers: tuple[str, ...]
    features: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    propensities: np.ndarray
    candidates: np.ndarray
    other_version: int

    @property
    def size(self) -> int:
        return len(self.actions)

    def known(self, rows: slice = slice(None)) -> np.ndarray:
        """Indices (within ``rows``) that carry a propensity."""
        return np.flatnonzero(~np.isnan(self.propensities[rows]))

    def bandit(self, rows: slice | np.ndarray) -> LoggedBandit:
        """The selected rows as engine input; they must all carry a propensity."""
        return LoggedBandit(
            self.levers, self.features[rows], self.actions[rows], self.rewards[rows],
            self.propensities[rows], self.candidates[rows],
        )


async def load_point_log(
    sessions: async_sessionmaker[AsyncSession], point_key: str, since: datetime | None, until: datetime | None
) -> PointLog:
    if since is not None and until is not None and since >= until:
        raise InvalidInput("from", "must be before `to`")
    async with sessions() as session:
        row = await offer_repo.decision_point(session, point_key)
        if row is None:
            raise UnknownDecisionPoint(point_key)
        point = mapping.decision_point(row)
        rows = await log_repo.logged_rows(session, point.id, since, until)
    current = [r for r in rows if r.config_version == point.version]
    levers = tuple(point.known_levers) + tuple(sorted({r.lever_key for r in current} - set(point.known_levers)))
    index = {lever: j for j, lever in enumerate(levers)}
    n, k = len(current), len(levers)
    d = len(current[0].features) if current else 1
    candidates = np.zeros((n, k), dtype=bool)
    for i, r in enumerate(current):
        candidates[i, [index[c] for c in r.candidates if c in index]] = True
        candidates[i, index[r.lever_key]] = True  # the logged lever was a candidate, whatever the list says
    return PointLog(
        point=point,
        levers=levers,
        features=np.array([r.features for r in current], dtype=np.float64).reshape(n, d),
        actions=np.array([index[r.lever_key] for r in current], dtype=np.intp),
        rewards=np.array([r.reward for r in current], dtype=np.float64),
        propensities=np.array([np.nan if r.propensity is None else r.propensity for r in current], dtype=np.float64),
        candidates=candidates,
        other_version=len(rows) - n,
    )
