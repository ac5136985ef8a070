from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidContext, InvalidFeatureSpec
from engine.features import ROW_AT_A_TIME_MAX, FeatureEncoder

SAMPLE = [
    {"stage": "ACTIVE", "rfm.monetary": 10.0, "attributes.vip": True, "context.channel": "web"},
    {"stage": "NEW", "rfm.monetary": 30.0, "attributes.vip": False, "context.channel": "app"},
    {"stage": "ACTIVE", "rfm.monetary": None, "context.channel": "web"},
]
NAMES = ["stage", "rfm.monetary", "attributes.vip", "context.channel", "openAlerts"]


def test_fit_infers_numeric_and_categorical_features_with_missing_indicators() -> None:
    encoder = FeatureEncoder.fit(NAMES, SAMPLE)
    assert encoder.columns == (
        "bias",
        "stage=ACTIVE", "stage=NEW", "stage=<other>", "stage#missing",
        "rfm.monetary", "rfm.monetary#missing",
        "attributes.vip=false", "attributes.vip=true", "attributes.vip=<other>", "attributes.vip#missing",
        "context.channel=app", "context.channel=web", "context.channel=<other>", "context.channel#missing",
        "openAlerts", "openAlerts#missing",
    )
    row = dict(zip(encoder.columns, encoder.encode(SAMPLE[0])))
    assert row["bias"] == 1.0 and row["stage=ACTIVE"] == 1.0
    assert row["rfm.monetary"] == pytest.approx(-1.0)  # (10 - 20) / 10
    assert row["openAlerts#missing"] == 1.0 and row["openAlerts"] == 0.0
    missing = dict(zip(encoder.columns, encoder.encode(SAMPLE[2])))
    assert missing["rfm.monetary#missing"] == 1.0 and missing["attributes.vip#missing"] == 1.0


def test_unseen_category_goes_to_other_bucket() -> None:
    encoder = FeatureEncoder.fit(NAMES, SAMPLE)
    row = dict(zip(encoder.columns, encoder.encode({"stage": "LAPSED"})))
    assert row["stage=<other>"] == 1.0 and row["stage=ACTIVE"] == 0.0


def test_wrong_type_for_numeric_feature_raises_invalid_context_with_key() -> None:
    encoder = FeatureEncoder.fit(NAMES, SAMPLE)
    with pytest.raises(InvalidContext) as error:
        encoder.encode({"rfm.monetary": "lots"})
    assert error.value.key == "rfm.monetary"
    with pytest.raises(InvalidContext):
        encoder.encode({"rfm.monetary": True})
    with pytest.raises(InvalidContext):
        encoder.encode({"stage": 1.5})


def test_known_categorical_names_stay_categorical_even_when_numbers() -> None:
    encoder = FeatureEncoder.fit(["valueTier"], [{"valueTier": 1}, {"valueTier": 2}])
    assert "valueTier=1" in encoder.columns


def test_unknown_feature_name_is_rejected() -> None:
    with pytest.raises(InvalidFeatureSpec):
        FeatureEncoder.fit(["favouriteColour"], SAMPLE)


def test_constant_numeric_gets_unit_std() -> None:
    encoder = FeatureEncoder.fit(["openAlerts"], [{"openAlerts": 2}] * 3)
    assert encoder.encode({"openAlerts": 3})[1] == pytest.approx(1.0)


def test_categories_are_capped_to_the_most_frequent() -> None:
    sample = [{"context.sku": f"s{i % 7}"} for i in range(100)] + [{"context.sku": "rare"}]
    encoder = FeatureEncoder.fit(["context.sku"], sample, max_categories=3)
    assert encoder.columns[1:4] == ("context.sku=s0", "context.sku=s1", "context.sku=s2")


def test_zero_feature_encoder_yields_a_bias_column() -> None:
    encoder = FeatureEncoder.fit([], SAMPLE)
    assert encoder.columns == ("bias",)
    assert encoder.encode_many(SAMPLE).tolist() == [[1.0]] * 3


def test_dict_round_trip_is_json_safe_and_keeps_version_and_encoding() -> None:
    encoder = FeatureEncoder.fit(NAMES, SAMPLE)
    restored = FeatureEncoder.from_dict(json.loads(json.dumps(encoder.to_dict())))
    assert restored == encoder and restored.version == encoder.version
    np.testing.assert_array_equal(restored.encode_many(SAMPLE), encoder.encode_many(SAMPLE))


def test_version_changes_when_statistics_change() -> None:
    other = [dict(row, **{"rfm.monetary": 99.0}) for row in SAMPLE]
    assert FeatureEncoder.fit(NAMES, SAMPLE).version != FeatureEncoder.fit(NAMES, other).version


row_strategy = st.fixed_dictionaries(
    {},
    optional={
        "stage": st.one_of(st.none(), st.sampled_from(["ACTIVE", "NEW", "GONE"])),
        "rfm.monetary": st.one_of(st.none(), st.floats(-1e6, 1e6), st.integers(-1000, 1000)),
        "attributes.vip": st.one_of(st.none(), st.booleans()),
        "context.channel": st.one_of(st.none(), st.text(max_size=3)),
    },
)


@settings(max_examples=60, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=20))
def test_encode_many_equals_row_by_row_and_each_categorical_block_is_one_hot(rows: list[dict[str, object]]) -> None:
    encoder = FeatureEncoder.fit(NAMES, SAMPLE)
    matrix = encoder.encode_many(rows)
    assert matrix.shape == (len(rows), encoder.dimension) and np.isfinite(matrix).all()
    np.testing.assert_array_equal(matrix, np.vstack([encoder.encode(r) for r in rows]))
    stage_block = [i for i, c in enumerate(encoder.columns) if c.startswith("stage")]
    np.testing.assert_array_equal(matrix[:, stage_block].sum(axis=1), 1.0)


any_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6),
    st.just(float("nan")),
    st.sampled_from(["ACTIVE", "NEW", "GONE", "web", "true", "1"]),
    st.builds(np.float64, st.floats(-1e3, 1e3)),
)
loose_row = st.fixed_dictionaries({}, optional={name: any_value for name in NAMES})


@settings(max_examples=200, deadline=None)
@given(loose_row)
def test_one_row_encodes_exactly_as_the_vectorised_path_or_fails_with_the_same_key(row: dict[str, object]) -> None:
    # A single row takes the plain-Python path; a long list of rows takes the numpy path.
    encoder = FeatureEncoder.fit(NAMES, SAMPLE)
    many = [row] * (ROW_AT_A_TIME_MAX + 1)
    try:
        expected = encoder.encode_many(many)[0]
    except InvalidContext as vectorised:
        with pytest.raises(InvalidContext) as single:
            encoder.encode(row)
        assert (single.value.key, single.value.reason) == (vectorised.key, vectorised.reason)
        return
    np.testing.assert_array_equal(encoder.encode(row), expected)
    np.testing.assert_array_equal(encoder.encode_many([row, row]), encoder.encode_many(many)[:2])


def test_encoder_survives_pickle_and_copies_share_the_frozen_encoder() -> None:
    import copy
    import pickle

    encoder = FeatureEncoder.fit(NAMES, SAMPLE)
    restored = pickle.loads(pickle.dumps(encoder))
    assert restored == encoder and restored.version == encoder.version
    np.testing.assert_array_equal(restored.encode(SAMPLE[0]), encoder.encode(SAMPLE[0]))
    assert copy.deepcopy(encoder) is encoder


@settings(max_examples=100, deadline=None)
@given(st.lists(loose_row, min_size=0, max_size=ROW_AT_A_TIME_MAX * 2))
def test_values_given_per_feature_encode_as_the_rows_or_fail_with_the_same_key(rows: list[dict[str, object]]) -> None:
    encoder = FeatureEncoder.fit(NAMES, SAMPLE)
    names = NAMES[:-1] + ["not.a.feature"]  # openAlerts left out: missing for every row
    columns = [[row.get(name) for row in rows] for name in names]
    as_rows = [{name: row.get(name) for name in names} for row in rows]
    try:
        expected = encoder.encode_many(as_rows)
    except InvalidContext as by_rows:
        with pytest.raises(InvalidContext) as by_columns:
            encoder.encode_columns(names, columns, len(rows))
        assert (by_columns.value.key, by_columns.value.reason) == (by_rows.key, by_rows.reason)
        return
    np.testing.assert_array_equal(encoder.encode_columns(names, columns, len(rows)), expected)
