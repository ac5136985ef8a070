"""Lifecycle stage use cases: counts, history and the operator's manual move."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import StageChange as StageChangeRow
from db.repositories import customers as customer_repo
from db.repositories import stages as repo
from services import mapping
from services.domain import STAGES, Customer, StageChange, StageCount
from services.errors import CustomerNotFound, InvalidInput


class Stages:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessionmaker

    async def counts(self) -> list[StageCount]:
        """Customers per stage, every stage listed (zero included), in lifecycle order."""
        async with self._sessions() as session:
            counts = await customer_repo.stage_counts(session)
        return [StageCount(stage, counts.get(stage, 0)) for stage in STAGES]

    async def history(self, customer_ids: Sequence[int]) -> dict[int, list[StageChange]]:
        async with self._sessions() as session:
            rows = await repo.history_for(session, customer_ids)
        found: dict[int, list[StageChange]] = {}
        for row in rows:
            found.setdefault(row.customer_id, []).append(mapping.stage_change(row))
        return found

    async def set_stage(self, external_id: str, stage: str, reason: str | None) -> tuple[Customer, StageChange]:
        """Move a customer to ``stage`` by hand; the move is recorded with rule "operator"."""
        if stage not in STAGES:
            raise InvalidInput("stage", f"unknown stage {stage!r}")
        if reason is not None and len(reason) > 500:
            raise InvalidInput("reason", "must be at most 500 characters")
        async with self._sessions.begin() as session:
            row = await customer_repo.by_external_id(session, external_id)
            if row is None:
                raise CustomerNotFound(external_id=external_id)
            now = datetime.now(UTC)
            change = StageChangeRow(
                customer_id=row.id, from_stage=row.stage, to_stage=stage, at=now, reason=reason, rule="operator"
            )
            row.stage, row.stage_changed_at = stage, now
            session.add(change)
            await session.flush()
            return mapping.customer(row), mapping.stage_change(change)
