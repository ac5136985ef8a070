"""The per-process model registry: one serving model per decision point, kept current from the log.

How learning stays exactly-once with several workers (and several processes):

* Every transaction that inserts outcomes first locks its decision point row (``FOR NO KEY
  UPDATE`` on PostgreSQL; SQLite has a single writer), so outcome ids of a decision point become
  visible in id order: a reader that has seen id ``n`` will never later see a smaller one commit.
* Each process tails ``outcomes WHERE decision_point = X AND config_version = v AND NOT late AND
  id > last ORDER BY id`` (every ``poll_seconds`` and at once after a local write) and feeds the
  engine ``Learner``, which learns in a copy and publishes it whole and ignores ids it has applied.
* Snapshots are taken every ``snapshot_every`` outcomes or ``snapshot_seconds``; a process that
  starts (or a decision point it loads) restores the newest snapshot of the current config version
  and replays the log after its ``last_outcome_id``. Replaying the whole log gives the same model.

Each process draws its own random stream, ``default_rng([policy.seed, worker])``: a test with one
process and a fixed worker index is reproducible; two workers never share a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import offers as repo
from db.repositories import outcomes as outcome_repo
from engine import FeatureEncoder, InvalidSnapshot, Learner, OfferModel, OutcomeRecord, Snapshot
from services.offers import mapping
from services.offers.gate import WriteGate
from services.offers.values import MAIN_ARM, DecisionPoint, Lever

log = logging.getLogger("ciclo.offers")
MIN_ROUND_SECONDS = 0.05


@dataclass(slots=True)
class Served:
    """What a decision uses: the point's config, its learner (``learner.model`` is the serving
    model: read it once per request) and this process's random stream for the point."""

    point: DecisionPoint
    learner: Learner
    rng: np.random.Generator
    snapshot_applied: int = 0
    snapshot_at: float = field(default_factory=time.monotonic)
    arm: str = MAIN_ARM


def template_model(point: DecisionPoint, arm: str | None = None) -> OfferModel:
    """A model with nothing learned: every lever ever configured, those not configured now retired.
    Each policy arm (the champion by default) has its own."""
    encoder = FeatureEncoder.from_dict(point.encoder)
    policy = point.arm_policy(arm) if arm is not None else point.policy
    model = OfferModel(mapping.engine_policy(policy), encoder, point.known_levers)
    for lever in point.known_levers:
        if lever not in point.levers:
            model.retire_lever(lever)
    return model


def reconciled(model: OfferModel, point: DecisionPoint) -> OfferModel | None:
    """A copy of ``model`` whose choosable levers are the point's, or None when they already are.

    Removing a lever retires it and re-adding it restores it with its statistics."""
    wanted = set(point.levers)
    if set(model.active_levers) == wanted and set(point.known_levers) <= set(model.levers):
        return None
    copy = model.clone()
    for lever in point.known_levers:
        if lever in wanted:
            copy.add_lever(lever)
        elif lever not in copy.levers:
            copy.add_lever(lever)
            copy.retire_lever(lever)
    for lever in copy.active_levers:
        if lever not in wanted:
            copy.retire_lever(lever)
    return copy


class ModelRegistry:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        worker: int = 0,
        batch_size: int = 1000,
        tail_limit: int = 5000,
        snapshot_every: int = 5000,
        snapshot_seconds: float = 300.0,
        poll_seconds: float = 0.2,
        gate: WriteGate | None = None,
    ) -> None:
        self._sessions = sessionmaker
        # Snapshot writes queue behind the process's other SQLite writes: written past the gate, a
        # snapshot holding the lock sent a gated decide or outcome commit into SQLite's busy
        # handler, which sleeps in steps of up to 100 ms while every writer behind it waits.
        self._gate = gate or WriteGate(sessionmaker)
        self.worker = worker
        self.batch_size = batch_size
        self.tail_limit = tail_limit
        self.snapshot_every = snapshot_every
        self.snapshot_seconds = snapshot_seconds
        self.poll_seconds = poll_seconds
        # one served model per (decision point id, policy arm)
        self._served: dict[tuple[int, str], Served] = {}
        # Decision point configs and active levers as of the last round, for decide() while the
        # background loop keeps them fresh (at most ``poll_seconds`` old).
        self._configs: dict[str, tuple[DecisionPoint, frozenset[str]]] = {}
        self._levers: dict[str, Lever] = {}
        self._configs_at = 0.0
        self._lock = asyncio.Lock()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    # -- serving -----------------------------------------------------------------------------

    async def serving(self, point: DecisionPoint, arm: str | None = None) -> Served:
        """The served model of ``point``'s ``arm`` (the champion by default) at its current config
        version, loading it when needed."""
        arm = arm or point.guardrails.champion
        served = self._served.get((point.id, arm))
        if served is None or served.point.version != point.version:
            async with self._lock:
                served = self._served.get((point.id, arm))
                if served is None or served.point.version != point.version:
                    served = await self._load(point, arm)
        if served.point.updated_at != point.updated_at:
            self._adopt(served, point)
        return served

    async def serving_arms(self, point: DecisionPoint) -> dict[str, Served]:
        """Every arm of ``point``, the champion first."""
        return {arm: await self.serving(point, arm) for arm in point.arms}

    def _fresh(self) -> bool:
        """The last round's configs are recent enough to decide with (the loop runs)."""
        return self._task is not None and time.monotonic() - self._configs_at <= 2 * self.poll_seconds

    def cached_config(self, key: str) -> tuple[DecisionPoint, frozenset[str]] | None:
        """The point's config and active levers from the last round, while the loop runs and the
        round is recent; None means: read them from the database."""
        return self._configs.get(key) if self._fresh() else None

    def cached_point(self, point_id: int) -> DecisionPoint | None:
        """``cached_config`` by decision point id (the config alone)."""
        if not self._fresh():
            return None
        return next((point for point, _ in self._configs.values() if point.id == point_id), None)

    def cached_levers(self, keys: list[str]) -> dict[str, Lever] | None:
        """Levers from the last round (as fresh as ``cached_config``), or None."""
        if not self._fresh():
            return None
        if not all(key in self._levers for key in keys):
            return None
        return {key: self._levers[key] for key in keys}

    def loaded(self, point_id: int, arm: str | None = None) -> Served | None:
        """The loaded model of an arm (the champion by default), if any."""
        for (pid, name), served in self._served.items():
            if pid == point_id and name == (arm or served.point.guardrails.champion):
                return served
        return None

    def served_arms(self) -> list[tuple[str, Served]]:
        """Every loaded model with the name of its policy arm."""
        return [(arm, served) for (_, arm), served in self._served.items()]

    def served(self) -> list[Served]:
        """Every model this process serves now (services.offers.health reads them)."""
        return list(self._served.values())

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self._sessions

    def nudge(self) -> None:
        """Learn soon: a local commit wrote outcomes."""
        if self._wake is not None:
            self._wake.set()

    # -- learning ----------------------------------------------------------------------------

    async def refresh(self) -> int:
        """One round: load new decision points, follow config changes, learn every new outcome,
        snapshot where due. Returns the number of outcomes learned."""
        async with self._lock:
            started = time.monotonic()
            async with self._sessions() as session:
                current = {row.id: row for row in await repo.versions(session)}
                levers = {row.key: mapping.lever(row) for row in await repo.all_levers(session)}
                active = frozenset(key for key, lever in levers.items() if lever.active)
                loaded = {pid: s.point for (pid, _), s in self._served.items()}
                changed = [
                    pid for pid, row in current.items()
                    if pid not in loaded
                    or loaded[pid].version != row.version
                    or loaded[pid].updated_at != row.updated_at
                ]
                points = [await repo.decision_point_by_id(session, pid) for pid in changed]
            for key in [key for key in self._served if key[0] not in current]:
                del self._served[key]
            for row in points:
                if row is None:
                    continue
                point = mapping.decision_point(row)
                for key in [key for key in self._served if key[0] == point.id and key[1] not in point.arms]:
                    del self._served[key]  # an arm removed from the configuration
                for arm in point.arms:
                    served = self._served.get((point.id, arm))
                    if served is None or served.point.version != point.version:
                        await self._load(point, arm)
                    else:
                        self._adopt(served, point)
            self._configs = {s.point.key: (s.point, active) for s in self._served.values()}
            self._levers = levers
            self._configs_at = started
            learned = 0
            for served in list(self._served.values()):
                learned += await self._catch_up(served)
                await self._maybe_snapshot(served)
            return learned

    async def snapshot(self, point_id: int, arm: str | None = None) -> bool:
        """Store a snapshot of ``point_id``'s served model (the champion's by default) now, if it
        learned anything new."""
        async with self._lock:
            served = self.loaded(point_id, arm)
            return served is not None and await self._save_snapshot(served)

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="offer-model-registry")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            # A nudge shortens the wait, but rounds stay apart: each publishes a model copy, and
            # one round per commit would take the event loop away from requests.
            await asyncio.sleep(MIN_ROUND_SECONDS)
            self._wake.clear()
            try:
                await self.refresh()
            except Exception:  # noqa: BLE001 - a failed round is retried on the next one
                log.warning("offer model refresh failed", exc_info=True)

    # -- internals ---------------------------------------------------------------------------

    async def _load(self, point: DecisionPoint, arm: str | None = None) -> Served:
        arm = arm or point.guardrails.champion
        model, last = template_model(point, arm), 0
        async with self._sessions() as session:
            stored = await outcome_repo.newest_snapshot(session, point.id, point.version, arm)
        if stored is not None and stored.encoder_version == model.encoder.version:
            try:
                model = Snapshot.loads(stored.payload).restore()
                last = stored.last_outcome_id
            except InvalidSnapshot:
                log.warning("snapshot %s of %s unusable; replaying the log", stored.id, point.key, exc_info=True)
        model = reconciled(model, point) or model
        # the arm named "main" keeps the stream it had before arms existed
        seed = [point.arm_policy(arm).seed, self.worker]
        if arm != MAIN_ARM:
            seed.append(zlib.crc32(arm.encode()))
        served = Served(
            point, Learner(model, self.batch_size, last), np.random.default_rng(seed),
            snapshot_applied=model.outcomes_applied, arm=arm,
        )
        await self._catch_up(served)
        self._served[(point.id, arm)] = served
        return served

    def _adopt(self, served: Served, point: DecisionPoint) -> None:
        """Same config version, other levers or window: follow the levers, keep what was learned."""
        model = reconciled(served.learner.model, point)
        if model is not None:
            served.learner.publish(model, served.learner.last_outcome_id)
        served.point = point

    async def _catch_up(self, served: Served) -> int:
        point, learner = served.point, served.learner
        cursor = learner.last_outcome_id
        while True:
            async with self._sessions() as session:
                rows = await outcome_repo.tail(
                    session, point.id, point.version, cursor, self.tail_limit,
                    arm=served.arm, acceptance=point.guardrails.objective == "NET_VALUE",
                )
            if not rows:
                break
            records = [OutcomeRecord(r[0], r[1], float(r[2]), tuple(r[3])) for r in rows]
            unknown = {r.lever for r in records} - set(learner.model.levers)
            if unknown:  # a lever dropped from known_levers by hand: learn it, never serve it
                model = learner.model.clone()
                for lever in sorted(unknown):
                    model.add_lever(lever)
                    model.retire_lever(lever)
                learner.publish(model, learner.last_outcome_id)
            learner.submit(records)
            cursor = records[-1].outcome_id
            if len(rows) < self.tail_limit:
                break
        return learner.flush()

    async def _maybe_snapshot(self, served: Served) -> None:
        fresh = served.learner.outcomes_applied - served.snapshot_applied
        due = fresh >= self.snapshot_every or (
            fresh > 0 and time.monotonic() - served.snapshot_at >= self.snapshot_seconds
        )
        if due:
            await self._save_snapshot(served)

    async def _save_snapshot(self, served: Served) -> bool:
        learner = served.learner
        model, last = learner.model, learner.last_outcome_id
        served.snapshot_applied, served.snapshot_at = model.outcomes_applied, time.monotonic()
        async with self._gate.begin() as session:
            # Another worker may have stored this watermark already: one copy is enough.
            watermark = await outcome_repo.newest_snapshot_watermark(
                session, served.point.id, served.point.version, served.arm
            )
            if watermark >= last:
                return False
            await outcome_repo.save_snapshot(
                session,
                {
                    "decision_point_id": served.point.id,
                    "config_version": served.point.version,
                    "policy_arm": served.arm,
                    "encoder_version": model.encoder.version,
                    "outcomes_applied": model.outcomes_applied,
                    "last_outcome_id": last,
                    "payload": Snapshot.capture(model, last).dumps(),
                    "created_at": datetime.now(UTC),
                },
            )
        return True
