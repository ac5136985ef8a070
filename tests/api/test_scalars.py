"""The DateTime parser the schema uses reads every form Strawberry's default read, to the same instant."""

from __future__ import annotations

import dateutil.parser
import pytest
from strawberry.exceptions import StrawberryInputCoercionError

from api.scalars import FAST_DATETIME

FORMS = [
    "2026-10-02T10:15:00Z", "2026-10-02T10:15:00.123+02:00", "2026-10-02 10:15:00+00:00", "20261002T101500Z",
    "2026-10-02T10:15:00.1234567+00:00", "2026-10-02T10:15Z", "2026-W40-1T10:00Z", "2026-10-02T10:15:00,5Z",
    "2026-10-02T10:15:00+0530", "2026-10-02T10:15:00", "2026-10-02",
    "2026-10-02T24:00:00Z",  # the C parser refuses hour 24: dateutil reads it as the next midnight
]


@pytest.mark.parametrize("text", FORMS)
def test_each_iso_form_parses_to_what_dateutil_reads(text: str) -> None:
    parsed = FAST_DATETIME.parse_value(text)
    expected = dateutil.parser.isoparse(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", 1_700_000_000])
def test_what_neither_reads_is_a_coercion_error_naming_the_scalar(value: object) -> None:
    with pytest.raises(StrawberryInputCoercionError, match="Value cannot represent a DateTime"):
        FAST_DATETIME.parse_value(value)
