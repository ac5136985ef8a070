"""Parsing one CSV row of a decision log: feature./attr. columns, flags, numbers, zones."""

from __future__ import annotations

import pytest

from services.evaluation.log_csv import _decision
from services.imports import _RowError

ROW = {"externalId": "c-1", "decisionPoint": "WINBACK", "lever": "NO_ACTION", "decidedAt": "2025-01-02T10:00:00+01:00",
       "accepted": "TRUE", "propensity": "", "revenue": "12.5"}


def test_feature_and_attribute_columns_join_their_json_objects() -> None:
    draft = _decision({**ROW, "features": '{"context.tier": "LOW"}', "feature.context.price_sensitive": "true",
                       "attr.age": "41", "attributes": ""})
    assert draft.features == {"context.tier": "LOW", "context.price_sensitive": True}
    assert draft.attributes == {"age": 41}
    assert draft.accepted is True and draft.propensity is None and draft.revenue == 12.5
    assert draft.decided_at.utcoffset().total_seconds() == 3600


@pytest.mark.parametrize(
    ("change", "field"),
    [({"accepted": "maybe"}, "accepted"), ({"propensity": "a third"}, "propensity"), ({"revenue": "nan"}, "revenue"),
     ({"decidedAt": "yesterday"}, "decidedAt"), ({"features": "[1]"}, "features")],
)
def test_a_bad_cell_names_its_column(change: dict, field: str) -> None:
    with pytest.raises(_RowError) as caught:
        _decision({**ROW, **change})
    assert caught.value.field == field
