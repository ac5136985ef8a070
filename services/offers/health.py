"""What this process's model registry can say about itself: for /readyz and /metrics."""

from __future__ import annotations

from dataclasses import dataclass

from db.repositories import offers as repo
from db.repositories import outcomes as outcome_repo
from services.offers.registry import ModelRegistry


@dataclass(frozen=True, slots=True)
class ModelState:
    decision_point: str
    config_version: int
    outcomes_applied: int
    # Outcomes in the log this process has not applied yet (buffered in the learner or not read).
    lag: int


async def unloaded_points(registry: ModelRegistry) -> list[str]:
    """Keys of decision points whose current config version has no model loaded in this process."""
    async with registry.sessions() as session:
        current = await repo.versions(session)
    missing = []
    for row in current:
        served = registry.loaded(row.id)
        if served is None or served.point.version != row.version:
            missing.append(row.key)
    return sorted(missing)


async def model_states(registry: ModelRegistry) -> list[ModelState]:
    """Per loaded decision point: config version, outcomes applied and learner lag."""
    states = []
    async with registry.sessions() as session:
        for arm, served in registry.served_arms():
            learner, point = served.learner, served.point
            unread = await outcome_repo.count_after(session, point.id, point.version, learner.last_outcome_id, arm=arm)
            states.append(ModelState(point.key, point.version, learner.outcomes_applied, unread))
    return states
