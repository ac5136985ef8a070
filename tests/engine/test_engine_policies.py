from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from engine.errors import InvalidPolicyConfig, InvalidReward, ModelNotFitted, UnknownLever
from engine.features import FeatureEncoder
from engine.model import OfferModel
from engine.policies import Policy, PolicyConfig, PolicyKind, _arm_means, _beta_counts, _ridge_posteriors


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("alpha", -1, "`alpha` must be > 0, got -1"),
        ("epsilon", 1.5, "`epsilon` must be in [0, 1], got 1.5"),
        ("tau", 0, "`tau` must be > 0, got 0"),
        ("l2_lambda", 0, "`l2_lambda` must be > 0, got 0"),
        ("seed", -3, "`seed` must be an int >= 0, got -3"),
        ("propensity_samples", 0, "`propensity_samples` must be an int in [1, 10000], got 0"),
    ],
)
def test_policy_config_rejects_invalid_fields_with_named_message(field: str, value: float, message: str) -> None:
    with pytest.raises(InvalidPolicyConfig) as error:
        PolicyConfig(PolicyKind.LIN_TS, **{field: value})
    assert error.value.field == field and str(error.value) == message


def test_policy_config_accepts_kind_as_string_and_round_trips_through_dict() -> None:
    config = PolicyConfig("SOFTMAX", tau=0.5)  # type: ignore[arg-type]
    assert config.kind is PolicyKind.SOFTMAX
    assert PolicyConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InvalidPolicyConfig):
        PolicyConfig("GREEDY")  # type: ignore[arg-type]


def test_arm_means_accessor_matches_empirical_means() -> None:
    for kind in (PolicyKind.EPSILON_GREEDY, PolicyKind.SOFTMAX):
        policy = Policy(PolicyConfig(kind), ["A", "B"], 1)
        policy.learn(["A", "A", "B"], np.array([1.0, 0.0, 3.0]), np.ones((3, 1)))
        np.testing.assert_allclose(_arm_means(policy._mab, ["A", "B"]), [0.5, 3.0])


def test_epsilon_zero_expectations_equal_accessor_means() -> None:
    policy = Policy(PolicyConfig(PolicyKind.EPSILON_GREEDY, epsilon=0.0), ["A", "B"], 1)
    policy.learn(["A", "B", "B"], np.array([1.0, 0.0, 1.0]), np.ones((3, 1)))
    np.testing.assert_allclose(policy.expectations(np.ones((4, 1))), np.tile(policy.means(), (4, 1)))


def test_beta_counts_accessor_matches_outcomes() -> None:
    policy = Policy(PolicyConfig(PolicyKind.THOMPSON), ["A", "B"], 1)
    policy.learn(["A", "A", "B"], np.array([1.0, 1.0, 0.0]), np.ones((3, 1)))
    successes, failures = _beta_counts(policy._mab, ["A", "B"])
    assert successes.tolist() == [3.0, 1.0] and failures.tolist() == [1.0, 2.0]


def test_ridge_posterior_accessor_reproduces_public_lin_ucb_expectations() -> None:
    rng = np.random.default_rng(0)
    policy = Policy(PolicyConfig(PolicyKind.LIN_UCB, alpha=0.7), ["A", "B"], 3)
    x = rng.normal(size=(50, 3))
    policy.learn(rng.choice(["A", "B"], 50), rng.random(50), x)
    expected = np.column_stack(
        [x @ beta + 0.7 * np.sqrt(np.einsum("ij,jk,ik->i", x, a_inv, x)) for beta, a_inv in _ridge_posteriors(policy._mab, ["A", "B"])]
    )
    np.testing.assert_allclose(policy.expectations(x), expected)


def test_lin_ts_resample_has_the_moments_of_mabwiser_draws() -> None:
    rng = np.random.default_rng(1)
    policy = Policy(PolicyConfig(PolicyKind.LIN_TS, alpha=0.5), ["A", "B"], 3)
    x = rng.normal(size=(40, 3))
    policy.learn(rng.choice(["A", "B"], 40), rng.random(40), x)
    context = np.repeat(x[:1], 4000, axis=0)
    mabwiser_draws = policy.expectations(context)
    our_draws = policy.resample(x[:1], 4000, rng)[0]
    np.testing.assert_allclose(our_draws.mean(axis=0), mabwiser_draws.mean(axis=0), atol=0.05)
    np.testing.assert_allclose(our_draws.std(axis=0), mabwiser_draws.std(axis=0), rtol=0.1)


def test_lin_ts_works_with_a_bias_only_context() -> None:
    # MABWiser squeezes d == 1 draws into a wrong (n, n) product; the policy pads to d == 2
    policy = Policy(PolicyConfig(PolicyKind.LIN_TS), ["A", "B"], 1)
    policy.learn(["A"] * 20, np.ones(20), np.ones((20, 1)))
    assert policy.expectations(np.ones((5, 1))).shape == (5, 2)


def test_mabwiser_unfitted_error_is_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = Policy(PolicyConfig(PolicyKind.RANDOM), ["A", "B"], 1)

    def unfitted(contexts: object) -> None:
        raise Exception("Call fit before prediction")

    monkeypatch.setattr(policy._mab, "predict_expectations", unfitted)
    with pytest.raises(ModelNotFitted):
        policy.expectations(np.ones((2, 1)))


def test_fresh_policy_decides_before_any_outcome_from_neutral_priors() -> None:
    for kind in PolicyKind:
        policy = Policy(PolicyConfig(kind), ["A", "B"], 3)
        assert policy.expectations(np.ones((3, 3))).shape == (3, 2)


def test_thompson_refuses_non_binary_rewards_unless_thresholded() -> None:
    policy = Policy(PolicyConfig(PolicyKind.THOMPSON), ["A", "B"], 1)
    with pytest.raises(InvalidReward) as error:
        policy.learn(["A"], np.array([12.5]), np.ones((1, 1)))
    assert error.value.reward == 12.5
    thresholded = Policy(PolicyConfig(PolicyKind.THOMPSON, success_threshold=10.0), ["A", "B"], 1)
    thresholded.learn(["A", "A"], np.array([12.5, 3.0]), np.ones((2, 1)))
    assert _beta_counts(thresholded._mab, ["A"])[0].tolist() == [2.0]


def test_learning_an_unknown_lever_raises_and_changes_nothing() -> None:
    policy = Policy(PolicyConfig(PolicyKind.EPSILON_GREEDY), ["A", "B"], 1)
    with pytest.raises(UnknownLever):
        policy.learn(["A", "Z"], np.array([1.0, 1.0]), np.ones((2, 1)))
    assert policy.means().tolist() == [0.0, 0.0]


def test_purged_lever_comes_back_cold(make_model: Callable[..., OfferModel], rows: list[dict[str, object]]) -> None:
    model = make_model(PolicyKind.EPSILON_GREEDY)
    features = model.encoder.encode_many(rows[:10])
    model.learn(["PERSONAL_CALL"] * 10, np.ones(10), features)
    model.purge_lever("PERSONAL_CALL")
    assert "PERSONAL_CALL" not in model.levers
    model.add_lever("PERSONAL_CALL")
    assert model.policy.means()[model.policy.index("PERSONAL_CALL")] == 0.0


def test_encoder_dimension_reaches_policy(encoder: FeatureEncoder) -> None:
    assert Policy(PolicyConfig(PolicyKind.LIN_UCB), ["A", "B"], encoder.dimension).n_features == encoder.dimension


def test_lin_ts_draws_are_independent_across_levers_after_learning() -> None:
    rng = np.random.default_rng(2)
    policy = Policy(PolicyConfig(PolicyKind.LIN_TS), ["A", "B", "C"], 4)
    x = rng.normal(size=(90, 4))
    policy.learn(np.repeat(["A", "B", "C"], 30), rng.random(90), x)
    draws = policy.expectations(np.repeat(x[:1], 5000, axis=0))
    correlation = np.corrcoef(draws.T)[np.triu_indices(3, 1)]
    assert np.all(np.abs(correlation) < 0.06)
    models = policy._mab._imp.arm_to_model.values()
    assert len({id(m.rng) for m in models}) == 1
