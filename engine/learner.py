"""Micro-batched learning off the request path.

The ``Learner`` buffers outcomes, applies a batch with ``partial_fit`` on a *copy* of the serving
model and then publishes the copy whole, so a request never sees a half-updated model.

Exactly-once contract: outcome ids are applied in increasing order. An id at or below
``last_outcome_id`` (already applied) or already pending is ignored. The service replays the outcome
log ``WHERE id > snapshot.last_outcome_id ORDER BY id``, which satisfies the contract after a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import InvalidPolicyConfig, UnknownLever
from engine.model import OfferModel


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """One observed outcome of a served decision, with the features logged at decision time."""

    outcome_id: int
    lever: str
    reward: float
    features: tuple[float, ...]


class Learner:
    """Owns the published (serving) model and the pending outcomes for one decision point."""

    def __init__(self, model: OfferModel, batch_size: int = 1000, last_outcome_id: int = 0) -> None:
        if batch_size < 1:
            raise InvalidPolicyConfig("batch_size", f"`batch_size` must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self._model = model
        self._last_outcome_id = last_outcome_id
        self._pending: dict[int, OutcomeRecord] = {}
        self._lock = threading.Lock()

    @property
    def model(self) -> OfferModel:
        """The published model; read it once per request and use that reference throughout."""
        return self._model

    @property
    def outcomes_applied(self) -> int:
        return self._model.outcomes_applied

    @property
    def last_outcome_id(self) -> int:
        return self._last_outcome_id

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(self, records: Iterable[OutcomeRecord]) -> int:
        """Buffer outcomes; returns how many were new (duplicates and applied ids are ignored)."""
        levers = set(self._model.levers)
        accepted = 0
        with self._lock:
            for record in records:
                if record.outcome_id <= self._last_outcome_id or record.outcome_id in self._pending:
                    continue
                if record.lever not in levers:
                    raise UnknownLever(record.lever)
                self._pending[record.outcome_id] = record
                accepted += 1
        return accepted

    def flush(self) -> int:
        """Apply every pending outcome in id order, ``batch_size`` at a time, then publish the result.

        Returns the number of outcomes applied. The serving model is replaced, never mutated.
        """
        with self._lock:
            if not self._pending:
                return 0
            records = [self._pending[i] for i in sorted(self._pending)]
            learning = self._model.clone()
            for start in range(0, len(records), self.batch_size):
                apply_records(learning, records[start : start + self.batch_size])
            self._model = learning
            self._last_outcome_id = records[-1].outcome_id
            self._pending.clear()
            return len(records)

    def publish(self, model: OfferModel, last_outcome_id: int) -> None:
        """Replace the serving model (e.g. restored from a snapshot); pending outcomes are kept."""
        with self._lock:
            self._model = model
            self._last_outcome_id = last_outcome_id
            for outcome_id in [i for i in self._pending if i <= last_outcome_id]:
                del self._pending[outcome_id]


def apply_records(model: OfferModel, records: Sequence[OutcomeRecord]) -> None:
    """Learn ``records`` into ``model`` in one ``partial_fit``."""
    if not records:
        return
    features = np.array([r.features for r in records], dtype=np.float64)
    model.learn([r.lever for r in records], [r.reward for r in records], features)


def rebuild(template: OfferModel, records: Sequence[OutcomeRecord]) -> OfferModel:
    """A model learned from the whole log in one go; matches the incremental path within float tolerance."""
    model = template.fresh()
    apply_records(model, sorted(records, key=lambda r: r.outcome_id))
    return model
