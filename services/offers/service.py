"""The offer use cases wired to one sessionmaker and one per-process model registry."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.offers.arms import PolicyArms
from services.offers.catalog import Catalog
from services.offers.decisions import Decisions
from services.offers.budgets import Budgets
from services.offers.campaigns import Campaigns
from services.offers.contact_policy import ContactPolicies
from db.write_gate import WriteGate as ProcessWriteGate
from services.offers.gate import WriteGate
from services.offers.guards import Guards
from services.offers.outcomes import Outcomes
from services.offers.registry import ModelRegistry
from services.offers.values import Lever

log = logging.getLogger("ciclo.offers")
DEFAULT_EXPIRE_SECONDS = 60.0


@dataclass
class Offers:
    catalog: Catalog
    decisions: Decisions
    outcomes: Outcomes
    registry: ModelRegistry
    arms: PolicyArms
    budgets: Budgets
    contacts: ContactPolicies
    campaigns: Campaigns
    _expiry: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls, sessions: async_sessionmaker[AsyncSession], *, worker: int = 0, write_gate: ProcessWriteGate | None = None
    ) -> Offers:
        """``write_gate``: the process's shared SQLite write gate (see services.offers.gate)."""
        gate = WriteGate(sessions, write_gate)
        registry = ModelRegistry(sessions, worker=worker, gate=gate)
        catalog = Catalog(sessions)
        budgets, contacts = Budgets(sessions), ContactPolicies(sessions)
        guards = Guards(budgets, contacts)
        decisions = Decisions(sessions, registry, gate=gate, guards=guards)
        return cls(
            catalog, decisions, Outcomes(sessions, registry, gate=gate), registry,
            PolicyArms(sessions, catalog), budgets, contacts, Campaigns(sessions, registry, decisions),
        )

    async def levers_by_keys(self, keys: list[str]) -> dict[str, Lever]:
        """Levers by key: from the registry's last round while it runs, else from the database."""
        cached = self.registry.cached_levers(keys)
        return cached if cached is not None else await self.catalog.levers_by_keys(keys)

    async def sync(self) -> int:
        """Learn every outcome stored so far (the background loop does this every 200 ms)."""
        return await self.registry.refresh()

    def start(self, *, expire_seconds: float | None = None) -> None:
        """Background work of a server process: the learner's tail and the default-reward expiry."""
        if expire_seconds is None:
            expire_seconds = float(os.environ.get("CICLO_EXPIRE_SECONDS", DEFAULT_EXPIRE_SECONDS))
        self.registry.start()
        if expire_seconds > 0 and self._expiry is None:
            self._expiry = asyncio.create_task(self._expire_forever(expire_seconds), name="offer-expiry")

    async def stop(self) -> None:
        await self.registry.stop()
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
            self._expiry = None

    async def _expire_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.outcomes.expire()
            except Exception:  # noqa: BLE001 - retried on the next round
                log.warning("default-reward expiry failed", exc_info=True)
