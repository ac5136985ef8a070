"""Streamed CSV imports of customers and events, each bad row reported with its line number."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.domain import BulkResult, CustomerDraft, EventDraft
from services.errors import InvalidInput
from services.validation import MAX_BATCH

if TYPE_CHECKING:
    from services.container import Services

CUSTOMER_COLUMNS = (
    "externalId",
    "name",
    "email",
    "phone",
    "region",
    "acquisitionChannel",
    "referredByExternalId",
    "attributes",
)
EVENT_COLUMNS = (
    "externalId",
    "type",
    "occurredAt",
    "amount",
    "currency",
    "category",
    "score",
    "channel",
    "direction",
    "reason",
    "payload",
    "idempotencyKey",
)
REQUIRED_EVENT_COLUMNS = ("externalId", "type", "occurredAt")
ATTRIBUTE_PREFIX = "attr."
_PROFILE = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "region": "region",
    "acquisitionChannel": "acquisition_channel",
    "referredByExternalId": "referred_by_external_id",
}
_TEXT_EVENT_FIELDS = {
    "currency": "currency",
    "category": "category",
    "channel": "channel",
    "direction": "direction",
    "reason": "reason",
    "idempotencyKey": "idempotency_key",
}
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row left out of the import: ``line`` is the physical line it starts on (header is 1)."""

    line: int
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    accepted: int
    duplicates: int
    rejected: tuple[RejectedRow, ...]


class _RowError(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


async def import_customers_csv(
    services: Services,
    path: Path,
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create or update customers from a CSV file, ``batch_size`` rows per transaction.

    Columns: externalId (required), name, email, phone, region, acquisitionChannel,
    referredByExternalId, attributes (a JSON object) and any ``attr.<name>`` columns, whose cells
    are read as booleans (true/false), numbers or text. An empty cell leaves the stored value as it
    is. A later row for the same externalId updates the earlier one. Raises InvalidInput for an
    unknown or missing column before anything is stored; bad rows are reported, not raised.
    """

    def check(header: list[str]) -> None:
        for column in header:
            if column not in CUSTOMER_COLUMNS and not _is_attribute_column(column):
                expected = ", ".join(CUSTOMER_COLUMNS)
                raise InvalidInput(
                    column, f"unknown column {column!r}; expected {expected} or attr.<name>"
                )
        if "externalId" not in header:
            raise InvalidInput("externalId", "the externalId column is required")

    return await _run(
        path,
        batch_size,
        progress,
        check,
        _customer,
        services.customers.upsert_many,
        key=lambda draft: draft.external_id,
    )


async def import_events_csv(
    services: Services,
    path: Path,
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Append events from a CSV file, ``batch_size`` rows per transaction.

    Columns: externalId, type, occurredAt (ISO-8601 with a zone) are required; amount, currency,
    category, score, channel, direction, reason, payload (a JSON object) and idempotencyKey are
    optional. Rows whose idempotency key is already stored count as duplicates. Events may name
    customers created earlier in the same import. Raises InvalidInput for an unknown or missing
    column before anything is stored; bad rows are reported, not raised.
    """

    def check(header: list[str]) -> None:
        for column in header:
            if column not in EVENT_COLUMNS:
                raise InvalidInput(
                    column, f"unknown column {column!r}; expected {', '.join(EVENT_COLUMNS)}"
                )
        for column in REQUIRED_EVENT_COLUMNS:
            if column not in header:
                raise InvalidInput(column, f"the {column} column is required")

    return await _run(
        path, batch_size, progress, check, _event, services.events.record_many, key=None
    )


async def _run(
    path: Path,
    batch_size: int,
    progress: Callable[[int], None] | None,
    check: Callable[[list[str]], None],
    parse: Callable[[dict[str, str]], Any],
    send: Callable[[Sequence[Any]], Awaitable[BulkResult]],
    key: Callable[[Any], str] | None,
) -> ImportReport:
    if not 1 <= batch_size <= MAX_BATCH:
        raise InvalidInput("batchSize", f"must be between 1 and {MAX_BATCH}, got {batch_size}")
    accepted = duplicates = seen = 0
    rejected: list[RejectedRow] = []
    lines: list[int] = []
    drafts: list[Any] = []
    keys: set[str] = set()

    async def flush() -> None:
        nonlocal accepted, duplicates
        if not drafts:
            return
        result = await send(drafts)
        accepted += result.accepted
        duplicates += result.duplicates
        for error in result.errors:
            # An error without an index concerns the whole call: pin it on every row of it.
            at = [lines[error.index]] if error.index is not None else lines
            rejected.extend(RejectedRow(line, error.field, error.message) for line in at)
        lines.clear()
        drafts.clear()
        keys.clear()
        if progress is not None:
            progress(seen)

    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = _rows(csv.reader(handle))
        header = next(rows, None)
        if header is None:
            raise InvalidInput("file", "is empty: the first line must name the columns")
        names = [name.strip() for name in header[1]]
        if len(set(names)) != len(names):
            raise InvalidInput("file", "the header names a column twice")
        check(names)
        for line, cells in rows:
            seen += 1
            if len(cells) != len(names):
                rejected.append(
                    RejectedRow(line, "row", f"has {len(cells)} cells, the header has {len(names)}")
                )
                continue
            try:
                draft = parse(dict(zip(names, cells)))
            except _RowError as exc:
                rejected.append(RejectedRow(line, exc.field, exc.reason))
                continue
            # A row repeating an externalId of this batch goes in the next one, so the later wins.
            if key is not None and key(draft) in keys:
                await flush()
            if key is not None:
                keys.add(key(draft))
            lines.append(line)
            drafts.append(draft)
            if len(drafts) >= batch_size:
                await flush()
        await flush()
    return ImportReport(accepted, duplicates, tuple(sorted(rejected, key=lambda r: r.line)))


def _rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the physical line each starts on (quoted cells may span lines)."""
    end = 0
    for cells in reader:
        start, end = end + 1, reader.line_num
        if cells and any(cell.strip() for cell in cells):
            yield start, cells


def _is_attribute_column(column: str) -> bool:
    return column.startswith(ATTRIBUTE_PREFIX) and len(column) > len(ATTRIBUTE_PREFIX)


def _customer(row: dict[str, str]) -> CustomerDraft:
    fields: dict[str, Any] = {}
    for column, name in _PROFILE.items():
        value = row.get(column, "")
        if value != "":
            fields[name] = value
    attributes: dict[str, Any] | None = None
    if row.get("attributes", "") != "":
        attributes = _json_object("attributes", row["attributes"])
    for column, value in row.items():
        if _is_attribute_column(column) and value != "":
            attributes = attributes or {}
            attributes[column[len(ATTRIBUTE_PREFIX) :]] = _scalar(value)
    if attributes is not None:
        fields["attributes"] = attributes
    return CustomerDraft(external_id=row["externalId"], **fields)


def _event(row: dict[str, str]) -> EventDraft:
    fields: dict[str, Any] = {}
    for column, name in _TEXT_EVENT_FIELDS.items():
        if row.get(column, "") != "":
            fields[name] = row[column]
    if row.get("amount", "") != "":
        try:
            fields["amount"] = float(row["amount"])
        except ValueError:
            raise _RowError("amount", f"{row['amount']!r} is not a number") from None
    if row.get("score", "") != "":
        if not _INTEGER.match(row["score"]):
            raise _RowError("score", f"{row['score']!r} is not a whole number")
        fields["score"] = int(row["score"])
    if row.get("payload", "") != "":
        fields["payload"] = _json_object("payload", row["payload"])
    return EventDraft(
        external_id=row["externalId"],
        type=row["type"],
        occurred_at=_moment(row["occurredAt"]),
        **fields,
    )


def _moment(value: str, field: str = "occurredAt") -> datetime | None:
    """A CSV cell as an aware time; empty is None. ``field`` names the column in the error."""
    if value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _RowError(field, f"{value!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise _RowError(field, f"{value!r} has no time zone (e.g. 2025-01-31T10:00:00Z)")
    return moment


def _json_object(field: str, value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise _RowError(field, f"is not valid JSON: {exc.msg}") from None
    if not isinstance(parsed, dict):
        raise _RowError(field, "must be a JSON object")
    return parsed


def _scalar(value: str) -> bool | int | float | str:
    """An ``attr.`` cell: true/false, then a whole number, then a finite decimal, else the text."""
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _INTEGER.match(value):
        return int(value)
    try:
        number = float(value)
    except ValueError:
        return value
    return number if math.isfinite(number) else value
