from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import UnknownLever
from engine.learner import Learner, OutcomeRecord, rebuild
from engine.model import OfferModel
from engine.policies import PolicyKind

Rows = list[dict[str, object]]


def outcome_log(model: OfferModel, rows: Rows, seed: int = 0) -> list[OutcomeRecord]:
    rng = np.random.default_rng(seed)
    features = model.encoder.encode_many(rows)
    levers = rng.choice(np.array(model.levers), len(rows))
    rewards = (rng.random(len(rows)) < np.where(levers == "PERSONAL_CALL", 0.6, 0.2)).astype(float)
    return [OutcomeRecord(i + 1, str(l), float(r), tuple(f)) for i, (l, r, f) in enumerate(zip(levers, rewards, features.tolist()))]


def test_flush_learns_on_a_copy_and_publishes_it_whole(make_model: Callable[..., OfferModel], rows: Rows) -> None:
    serving = make_model(PolicyKind.LIN_UCB)
    learner = Learner(serving, batch_size=64)
    log = outcome_log(serving, rows)
    assert learner.submit(log) == len(log)
    assert learner.flush() == len(log)
    assert serving.outcomes_applied == 0  # the old serving model was never mutated
    assert learner.model is not serving and learner.outcomes_applied == len(log)
    assert learner.last_outcome_id == len(log) and learner.pending == 0


def test_outcome_ids_are_applied_exactly_once(make_model: Callable[..., OfferModel], rows: Rows) -> None:
    learner = Learner(make_model(PolicyKind.EPSILON_GREEDY))
    log = outcome_log(learner.model, rows[:100])
    assert learner.submit(log[:60] + log[:60]) == 60
    learner.flush()
    assert learner.submit(log) == 40  # the first 60 are already applied
    learner.flush()
    assert learner.outcomes_applied == 100 and learner.flush() == 0


def test_outcome_for_unknown_lever_is_rejected(make_model: Callable[..., OfferModel]) -> None:
    learner = Learner(make_model(PolicyKind.RANDOM))
    with pytest.raises(UnknownLever):
        learner.submit([OutcomeRecord(1, "TELEPATHY", 1.0, (1.0,))])


@pytest.mark.parametrize(
    "kind", [PolicyKind.LIN_TS, PolicyKind.LIN_UCB, PolicyKind.EPSILON_GREEDY, PolicyKind.THOMPSON, PolicyKind.SOFTMAX]
)
def test_incremental_micro_batches_equal_a_full_rebuild(kind: PolicyKind, make_model: Callable[..., OfferModel], rows: Rows) -> None:
    learner = Learner(make_model(kind), batch_size=37)
    log = outcome_log(learner.model, rows)
    for start in range(0, len(log), 150):
        learner.submit(log[start : start + 150])
        learner.flush()
    rebuilt = rebuild(learner.model, log)
    features = learner.model.encoder.encode_many(rows[:50])
    np.testing.assert_allclose(rebuilt.policy.point_estimates(features), learner.model.policy.point_estimates(features), atol=1e-9)
    if kind.contextual:
        incremental_state = learner.model.policy._mab._imp.arm_to_model
        for lever, model in rebuilt.policy._mab._imp.arm_to_model.items():
            np.testing.assert_allclose(model.A, incremental_state[lever].A, atol=1e-9)
            np.testing.assert_allclose(model.Xty, incremental_state[lever].Xty, atol=1e-9)
    assert rebuilt.outcomes_applied == learner.outcomes_applied == len(log)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 60), min_size=1, max_size=8), st.integers(1, 50))
def test_replay_of_the_log_equals_the_incremental_model_for_any_batching(
    make_model: Callable[..., OfferModel], rows: Rows, cuts: list[int], batch_size: int
) -> None:
    learner = Learner(make_model(PolicyKind.LIN_TS), batch_size=batch_size)
    log = outcome_log(learner.model, rows[:200], seed=3)
    position = 0
    for cut in cuts + [len(log)]:
        learner.submit(log[position : position + cut])
        learner.flush()
        position += cut
    features = learner.model.encoder.encode_many(rows[:20])
    np.testing.assert_allclose(
        rebuild(learner.model, log).policy.point_estimates(features), learner.model.policy.point_estimates(features), atol=1e-9
    )
