"""Opaque keyset cursors: the sort key of the last item seen, never an offset."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from services.errors import InvalidInput


def encode(value: Any, row_id: int) -> str:
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    raw = json.dumps([value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, field: str = "after") -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["t"])
        if not isinstance(row_id, int):
            raise ValueError(row_id)
    except (ValueError, TypeError, KeyError, json.JSONDecodeError) as exc:
        raise InvalidInput(field, f"not a cursor this API issued: {cursor!r}") from exc
    return value, row_id
