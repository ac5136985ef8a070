"""The evaluation use cases wired to one sessionmaker and the process's offer model registry."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.evaluation.log_import import DecisionLogImport
from services.offers.registry import ModelRegistry


@dataclass(frozen=True, slots=True)
class Evaluation:
    log: DecisionLogImport

    @classmethod
    def build(cls, sessions: async_sessionmaker[AsyncSession], registry: ModelRegistry) -> Evaluation:
        return cls(log=DecisionLogImport(sessions, registry))
