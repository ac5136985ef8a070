"""Shared checks run over every policy kind, plus the facade's candidate and arbitration rules."""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from engine.arbitration import LeverCost
from engine.errors import InvalidCandidates, UnknownLever
from engine.model import Choice, OfferModel
from engine.policies import PolicyKind

Rows = list[dict[str, object]]
ALL_KINDS = list(PolicyKind)
EXACT_KINDS = [PolicyKind.EPSILON_GREEDY, PolicyKind.SOFTMAX, PolicyKind.RANDOM, PolicyKind.LIN_UCB]


def summary(choices: list[Choice]) -> list[tuple[str, float]]:
    return [(c.lever, round(c.propensity, 12)) for c in choices]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_same_seeds_give_same_decisions(kind: PolicyKind, make_model: Callable[..., OfferModel], rows: Rows, train: Callable[..., None]) -> None:
    first, second = make_model(kind, seed=3), make_model(kind, seed=3)
    train(first, rows)
    train(second, rows)
    assert summary(first.decide(rows[:200], rng=11)) == summary(second.decide(rows[:200], rng=11))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_pickle_round_trip_predicts_the_same(kind: PolicyKind, make_model: Callable[..., OfferModel], rows: Rows, train: Callable[..., None]) -> None:
    model = make_model(kind)
    train(model, rows)
    restored = pickle.loads(pickle.dumps(model))
    assert summary(restored.decide(rows[:200], rng=5)) == summary(model.decide(rows[:200], rng=5))
    assert restored.outcomes_applied == model.outcomes_applied == len(rows)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_clone_learns_independently(kind: PolicyKind, make_model: Callable[..., OfferModel], rows: Rows, train: Callable[..., None]) -> None:
    model = make_model(kind)
    train(model, rows[:100])
    features = model.encoder.encode_many(rows[:50])
    before = model.policy.point_estimates(features).copy()
    clone = model.clone()
    train(clone, rows[100:], seed=1)
    np.testing.assert_array_equal(model.policy.point_estimates(features), before)
    assert model.outcomes_applied == 100 and clone.outcomes_applied == len(rows)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_propensities_are_in_zero_one_and_never_missing(kind: PolicyKind, make_model: Callable[..., OfferModel], rows: Rows, train: Callable[..., None]) -> None:
    model = make_model(kind)
    train(model, rows)
    propensities = np.array([c.propensity for c in model.decide(rows, rng=2)])
    assert np.all(propensities > 0) and np.all(propensities <= 1)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_logged_propensity_matches_choice_frequency_and_sums_to_one(kind: PolicyKind, make_model: Callable[..., OfferModel], rows: Rows, train: Callable[..., None]) -> None:
    model = make_model(kind, epsilon=0.3, tau=0.2, alpha=0.5, propensity_samples=400)
    train(model, rows)
    choices = model.decide([rows[0]] * 6000, rng=9, candidates=[["DISCOUNT_10", "PERSONAL_CALL", "NO_ACTION"]] * 6000)
    counts = Counter(c.lever for c in choices)
    logged: dict[str, list[float]] = {}
    for c in choices:
        logged.setdefault(c.lever, []).append(c.propensity)
    for lever, values in logged.items():
        assert np.mean(values) == pytest.approx(counts[lever] / len(choices), abs=0.03)
    if kind in EXACT_KINDS:
        assert all(np.ptp(v) < 1e-12 for v in logged.values())  # same context, same propensity
        assert sum(v[0] for v in logged.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_non_candidates_are_never_chosen(kind: PolicyKind, make_model: Callable[..., OfferModel], rows: Rows, train: Callable[..., None]) -> None:
    model = make_model(kind)
    train(model, rows)
    candidates = [["FREE_SHIPPING", "NO_ACTION"] if i % 2 else ["DISCOUNT_10"] for i in range(300)]
    choices = model.decide(rows[:300], rng=4, candidates=candidates)
    assert all(c.lever in allowed for c, allowed in zip(choices, candidates))
    assert all(set(c.scores) == set(allowed) for c, allowed in zip(choices, candidates))
    assert all(c.propensity == 1.0 for c, allowed in zip(choices, candidates) if len(allowed) == 1)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_equal_scores_do_not_always_pick_the_first_lever(kind: PolicyKind, make_model: Callable[..., OfferModel], rows: Rows) -> None:
    choices = make_model(kind).decide(rows[:200], rng=0)
    assert len({c.lever for c in choices}) >= 3


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_retired_lever_is_masked_and_keeps_statistics_when_re_added(kind: PolicyKind, make_model: Callable[..., OfferModel], rows: Rows, train: Callable[..., None]) -> None:
    model = make_model(kind)
    train(model, rows[:300])
    features = model.encoder.encode_many(rows[:20])
    column = model.policy.index("PERSONAL_CALL")
    before = model.policy.point_estimates(features)[:, column].copy()
    model.retire_lever("PERSONAL_CALL")
    assert "PERSONAL_CALL" not in {c.lever for c in model.decide(rows, rng=1)}
    train(model, rows[300:], seed=2)  # learns only the active levers
    model.add_lever("PERSONAL_CALL")
    np.testing.assert_allclose(model.policy.point_estimates(features)[:, column], before)
    assert "PERSONAL_CALL" in {c.lever for c in model.decide(rows, rng=1)}


def test_new_lever_added_at_runtime_is_choosable(make_model: Callable[..., OfferModel], rows: Rows, train: Callable[..., None]) -> None:
    model = make_model(PolicyKind.LIN_UCB)
    train(model, rows)
    model.add_lever("VOUCHER_5")
    choices = model.decide(rows[:5], rng=0, candidates=[["VOUCHER_5"]] * 5)
    assert {c.lever for c in choices} == {"VOUCHER_5"}


def test_candidates_as_mask_equal_candidates_as_lists(make_model: Callable[..., OfferModel], rows: Rows) -> None:
    model = make_model(PolicyKind.LIN_TS)
    lists = [["DISCOUNT_10", "NO_ACTION"]] * 50
    mask = np.tile([True, False, False, True], (50, 1))
    twin = model.clone()
    assert summary(model.decide(rows[:50], rng=1, candidates=lists)) == summary(twin.decide(rows[:50], rng=1, candidates=mask))


def test_unknown_or_empty_candidates_are_rejected(make_model: Callable[..., OfferModel], rows: Rows) -> None:
    model = make_model(PolicyKind.RANDOM)
    with pytest.raises(UnknownLever):
        model.decide(rows[:1], rng=0, candidates=[["TELEPATHY"]])
    model.retire_lever("NO_ACTION")
    with pytest.raises(InvalidCandidates) as error:
        model.decide(rows[:2], rng=0, candidates=[["DISCOUNT_10"], ["NO_ACTION"]])
    assert error.value.row == 1


def test_chunked_decide_returns_one_choice_per_row_with_features(make_model: Callable[..., OfferModel], rows: Rows) -> None:
    model = make_model(PolicyKind.LIN_TS)
    choices = model.decide(rows, rng=0, chunk_size=128)
    assert len(choices) == len(rows)
    np.testing.assert_array_equal(np.array([c.features for c in choices]), model.encoder.encode_many(rows))


def test_value_aware_choice_prefers_net_value_and_explains_terms(make_model: Callable[..., OfferModel], rows: Rows) -> None:
    model = OfferModel(
        make_model(PolicyKind.EPSILON_GREEDY).config.__class__(PolicyKind.EPSILON_GREEDY, epsilon=0.0),
        make_model(PolicyKind.RANDOM).encoder,
        ("CHEAP", "COSTLY"),
        {"COSTLY": LeverCost(percent_of_value=0.9)},
    )
    features = model.encoder.encode_many(rows[:40])
    model.learn(["CHEAP"] * 20 + ["COSTLY"] * 20, [0.0] * 10 + [1.0] * 10 + [1.0] * 16 + [0.0] * 4, features)
    plain = model.decide(rows[:10], rng=0)
    valued = model.decide(rows[:10], rng=0, values=np.full(10, 100.0))
    assert {c.lever for c in plain} == {"COSTLY"}  # 0.8 acceptance beats 0.5
    assert {c.lever for c in valued} == {"CHEAP"}  # 0.5 * 100 beats 0.8 * 100 * 0.1
    terms = valued[0].net_values
    assert terms is not None and terms["COSTLY"].net == pytest.approx(0.8 * 100 - 0.8 * 90)


def test_random_policy_stays_uniform_under_arbitration(make_model: Callable[..., OfferModel], rows: Rows) -> None:
    model = OfferModel(make_model(PolicyKind.RANDOM).config, make_model(PolicyKind.RANDOM).encoder, ("A", "B"), {"B": LeverCost(unit_cost=1e6)})
    choices = model.decide([rows[0]] * 2000, rng=0, values=np.full(2000, 10.0))
    assert abs(sum(c.lever == "B" for c in choices) / 2000 - 0.5) < 0.05


@pytest.mark.parametrize("kind", [PolicyKind.LIN_TS, PolicyKind.EPSILON_GREEDY, PolicyKind.SOFTMAX, PolicyKind.LIN_UCB])
def test_per_row_masks_never_serve_a_masked_lever_and_costs_passed_per_call_drive_arbitration(
    make_model: Callable[..., OfferModel], encoder: Any, rows: Rows, kind: PolicyKind
) -> None:
    model = make_model(kind, alpha=0.5, epsilon=0.2, tau=0.5)
    features = encoder.encode_many(rows[:200])
    rng = np.random.default_rng(3)
    mask = rng.random((200, len(model.levers))) < 0.5
    mask[np.arange(200), rng.integers(0, len(model.levers), 200)] = True
    values = np.full(200, 100.0)
    ruinous = {lever: LeverCost(contact_cost=1000.0) for lever in model.levers if lever != "NO_ACTION"}
    batch = model.decide_features(features, mask, rng, values, ruinous)
    assert mask[np.arange(200), batch.chosen].all()
    assert ((batch.propensity > 0) & (batch.propensity <= 1)).all()
    no_action = model.levers.index("NO_ACTION")
    # every other lever costs far more than it can earn: NO_ACTION wins wherever it is allowed
    # (exploration aside: epsilon-greedy explores and softmax keeps some mass on everything)
    allowed = mask[:, no_action]
    share = (batch.chosen[allowed] == no_action).mean()
    assert share > (0.75 if kind in (PolicyKind.EPSILON_GREEDY, PolicyKind.SOFTMAX) else 0.99)
    assert model.costs == {}  # the call's costs are not kept
