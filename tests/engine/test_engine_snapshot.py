from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from engine.errors import InvalidSnapshot
from engine.model import OfferModel
from engine.policies import PolicyKind
from engine.snapshot import Snapshot

Rows = list[dict[str, object]]


@pytest.mark.parametrize("kind", list(PolicyKind))
def test_snapshot_bytes_round_trip_restores_a_model_that_predicts_the_same(
    kind: PolicyKind, make_model: Callable[..., OfferModel], rows: Rows, train: Callable[..., None]
) -> None:
    model = make_model(kind)
    train(model, rows)
    snapshot = Snapshot.loads(Snapshot.capture(model, last_outcome_id=42).dumps())
    assert snapshot.last_outcome_id == 42 and snapshot.outcomes_applied == len(rows)
    assert snapshot.config["kind"] == kind.value and snapshot.encoding_version == model.encoder.version
    restored = snapshot.restore()
    original = [(c.lever, c.propensity, c.scores) for c in model.decide(rows[:100], rng=3)]
    assert [(c.lever, c.propensity, c.scores) for c in restored.decide(rows[:100], rng=3)] == original


def test_corrupt_or_mismatched_snapshot_is_rejected(make_model: Callable[..., OfferModel]) -> None:
    with pytest.raises(InvalidSnapshot):
        Snapshot.loads(b"not a snapshot")
    snapshot = Snapshot.capture(make_model(PolicyKind.RANDOM), last_outcome_id=0)
    with pytest.raises(InvalidSnapshot):
        dataclasses.replace(snapshot, encoding_version="000000000000").restore()
