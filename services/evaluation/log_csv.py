"""`ciclo import decisions FILE.csv`: a historical decision log streamed through ``importDecisionLog``."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from services.errors import InvalidInput
from services.evaluation.log_import import DecisionLogImport, LoggedDecisionDraft
from services.imports import ImportReport, _json_object, _RowError, _run, _scalar
from services.imports import _moment as _csv_moment

DECISION_COLUMNS = (
    "externalId",
    "decisionPoint",
    "lever",
    "propensity",
    "decidedAt",
    "features",
    "accepted",
    "revenue",
    "attributes",
    "requestId",
)
REQUIRED_DECISION_COLUMNS = ("externalId", "decisionPoint", "lever", "decidedAt", "accepted")
FEATURE_PREFIX = "feature."
ATTRIBUTE_PREFIX = "attr."
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


async def import_decisions_csv(
    log: DecisionLogImport,
    path: Path,
    *,
    warm_start: bool = False,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a decision log from CSV, ``batch_size`` rows per transaction.

    Required columns: externalId, decisionPoint, lever, decidedAt (ISO-8601 with a zone), accepted
    (true/false). Optional: propensity (empty when unknown), revenue, features (a JSON object of
    feature name -> value) and ``feature.<name>`` columns, attributes (JSON) and ``attr.<name>``
    columns for customers the import creates, requestId (makes re-imports count as duplicates).
    Raises InvalidInput for an unknown or missing column before anything is stored.
    """

    def check(header: list[str]) -> None:
        for column in header:
            if column not in DECISION_COLUMNS and not _prefixed(column, FEATURE_PREFIX) and not _prefixed(column, ATTRIBUTE_PREFIX):
                expected = ", ".join(DECISION_COLUMNS)
                raise InvalidInput(column, f"unknown column {column!r}; expected {expected}, feature.<name> or attr.<name>")
        for column in REQUIRED_DECISION_COLUMNS:
            if column not in header:
                raise InvalidInput(column, f"the {column} column is required")

    async def send(drafts: Any) -> Any:
        return await log.import_many(drafts, warm_start=warm_start)

    return await _run(path, batch_size, progress, check, _decision, send, key=None)


def _prefixed(column: str, prefix: str) -> bool:
    return column.startswith(prefix) and len(column) > len(prefix)


def _decision(row: dict[str, str]) -> LoggedDecisionDraft:
    features = _json_object("features", row["features"]) if row.get("features", "") != "" else None
    attributes = _json_object("attributes", row["attributes"]) if row.get("attributes", "") != "" else None
    for column, value in row.items():
        if value == "":
            continue
        if _prefixed(column, FEATURE_PREFIX):
            features = features if features is not None else {}
            features[column[len(FEATURE_PREFIX) :]] = _scalar(value)
        elif _prefixed(column, ATTRIBUTE_PREFIX):
            attributes = attributes if attributes is not None else {}
            attributes[column[len(ATTRIBUTE_PREFIX) :]] = _scalar(value)
    return LoggedDecisionDraft(
        external_id=row["externalId"],
        decision_point=row["decisionPoint"],
        lever=row["lever"],
        decided_at=_moment(row["decidedAt"]),
        accepted=_flag(row["accepted"]),
        revenue=_number("revenue", row.get("revenue", "")),
        propensity=_number("propensity", row.get("propensity", "")),
        features=features,
        attributes=attributes,
        request_id=row.get("requestId") or None,
    )


def _moment(value: str) -> datetime | None:
    return _csv_moment(value, "decidedAt")


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _RowError("accepted", f"{value!r} is not true or false")


def _number(field: str, value: str) -> float | None:
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise _RowError(field, f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise _RowError(field, f"{value!r} is not a finite number")
    return number
