"""The evaluation use cases wired to their sessionmakers and the process's offer model registry."""

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
    def build(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        registry: ModelRegistry,
        *,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> Evaluation:
        """The log import writes through ``sessions``; evaluations and comparisons only read, through
        ``read_sessions`` (a replica's) when given."""
        reads = read_sessions or sessions
        return cls(
            log=DecisionLogImport(sessions, registry),
            policies=PolicyEvaluations(reads, registry),
            comparisons=PolicyComparisons(reads),
        )
