"""The evaluation use cases wired to one sessionmaker and the process's offer model registry."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.evaluation.comparison import PolicyComparisons
from services.evaluation.log_import import DecisionLogImport
from services.evaluation.policy_evaluation import PolicyEvaluations
from services.offers.registry import ModelRegistry


@dataclass(frozen=True, slots=True)
class Evaluation:
    log: DecisionLogImport
    policies: PolicyEvaluations
    comparisons: PolicyComparisons

    @classmethod
    def build(cls, sessions: async_sessionmaker[AsyncSession], registry: ModelRegistry) -> Evaluation:
        return cls(
            log=DecisionLogImport(sessions, registry),
            policies=PolicyEvaluations(sessions, registry),
            comparisons=PolicyComparisons(sessions),
        )
