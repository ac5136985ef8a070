"""Business checks on incoming customers and events. Each failure names the offending field."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from services.domain import (
    CHANNELS,
    CONTACT_DIRECTIONS,
    EVENT_TYPES,
    UNSET,
    CustomerDraft,
    EventDraft,
    ItemError,
)
from services.errors import InvalidInput

MAX_BATCH = 10_000
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_KEY = 64
MAX_TEXT = {"external_id": 128, "name": 200, "email": 320, "phone": 50, "region": 100}
# Events may be historical, but not from a clock that runs far ahead.
FUTURE_SKEW = timedelta(days=1)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

# Which optional fields each event type takes; anything else sent with it is a caller bug.
EVENT_FIELDS: dict[str, frozenset[str]] = {
    "PURCHASE": frozenset({"amount", "currency", "category"}),
    "COMPLAINT": frozenset({"channel", "category", "reason"}),
    "SURVEY": frozenset({"score", "channel"}),
    "CONTACT": frozenset({"channel", "direction", "reason"}),
    "SIGNUP": frozenset({"channel"}),
    "TRIAL_STARTED": frozenset({"category"}),
    "SUBSCRIPTION_CANCELLED": frozenset({"reason", "category"}),
    "CUSTOM": frozenset({"amount", "currency", "category", "score", "channel", "direction", "reason"}),
}
_OPTIONAL_EVENT_FIELDS = ("amount", "currency", "category", "score", "channel", "direction", "reason")
_CAMEL = {"external_id": "externalId", "acquisition_channel": "acquisitionChannel",
          "referred_by_external_id": "referredByExternalId", "occurred_at": "occurredAt",
          "idempotency_key": "idempotencyKey"}


def field_name(python_name: str) -> str:
    """The API spelling of a field, so errors name what the caller actually sent."""
    return _CAMEL.get(python_name, python_name)


T = TypeVar("T")


def split_checked(drafts: Sequence[T], check: Callable[[T], None]) -> tuple[list[tuple[int, T]], list[ItemError]]:
    """Run ``check`` on every item of a bulk call: the valid ones with their index, and an error
    naming the index and field of each one ``check`` refused."""
    valid: list[tuple[int, T]] = []
    errors: list[ItemError] = []
    for index, draft in enumerate(drafts):
        try:
            check(draft)
        except InvalidInput as exc:
            errors.append(ItemError(index, exc.field, exc.reason))
        else:
            valid.append((index, draft))
    return valid, errors


def check_batch_size(items: list[Any], limit: int = MAX_BATCH) -> None:
    if len(items) > limit:
        raise InvalidInput("input", f"at most {limit} items per call, got {len(items)}")


def _text(name: str, value: Any, *, required: bool = False) -> None:
    if value is UNSET or value is None:
        if required:
            raise InvalidInput(field_name(name), "is required")
        return
    if not isinstance(value, str):
        raise InvalidInput(field_name(name), f"must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise InvalidInput(field_name(name), "must not be empty")
    limit = MAX_TEXT.get(name)
    if limit is not None and len(value) > limit:
        raise InvalidInput(field_name(name), f"must be at most {limit} characters, got {len(value)}")


def check_attributes(value: Any) -> dict[str, Any]:
    """Attributes are a flat JSON object of numbers, strings and booleans (or null to clear)."""
    if not isinstance(value, dict):
        raise InvalidInput("attributes", f"must be a JSON object, got {_json_kind(value)}")
    if len(value) > MAX_ATTRIBUTES:
        raise InvalidInput("attributes", f"at most {MAX_ATTRIBUTES} keys, got {len(value)}")
    for key, item in value.items():
        if not key or len(key) > MAX_ATTRIBUTE_KEY:
            raise InvalidInput("attributes", f"keys must be 1-{MAX_ATTRIBUTE_KEY} characters")
        if item is None or isinstance(item, (str, bool)):
            continue
        if isinstance(item, (int, float)):
            if isinstance(item, float) and not math.isfinite(item):
                raise InvalidInput(f"attributes.{key}", "must be a finite number")
            continue
        raise InvalidInput(
            f"attributes.{key}", f"must be a number, string or boolean, got {_json_kind(item)}"
        )
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__


def check_customer(draft: CustomerDraft) -> None:
    _text("external_id", draft.external_id, required=True)
    for name in ("name", "email", "phone", "region"):
        _text(name, getattr(draft, name))
    if isinstance(draft.email, str) and draft.email and not _EMAIL.match(draft.email):
        raise InvalidInput("email", f"{draft.email!r} is not an email address")
    if draft.attributes is not UNSET and draft.attributes is not None:
        check_attributes(draft.attributes)
    channel = draft.acquisition_channel
    if channel is not UNSET and channel is not None and channel not in CHANNELS:
        raise InvalidInput("acquisitionChannel", f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    ref = draft.referred_by_external_id
    _text("referred_by_external_id", ref)
    if ref and ref == draft.external_id:
        raise InvalidInput("referredByExternalId", "a customer cannot refer themselves")


def check_event(draft: EventDraft, now: datetime | None = None) -> None:
    _text("external_id", draft.external_id, required=True)
    if draft.type not in EVENT_TYPES:
        raise InvalidInput("type", f"unknown event type {draft.type!r}; one of {', '.join(EVENT_TYPES)}")
    if draft.occurred_at is None:
        raise InvalidInput("occurredAt", "is required")
    if draft.occurred_at.tzinfo is None:
        raise InvalidInput("occurredAt", "must carry a time zone (e.g. 2025-01-31T10:00:00Z)")
    now = now or datetime.now(UTC)
    if draft.occurred_at > now + FUTURE_SKEW:
        raise InvalidInput("occurredAt", f"is in the future: {draft.occurred_at.isoformat()}")
    allowed = EVENT_FIELDS[draft.type]
    for name in _OPTIONAL_EVENT_FIELDS:
        if getattr(draft, name) is not None and name not in allowed:
            raise InvalidInput(name, f"does not apply to {draft.type} events")
    if draft.type == "PURCHASE" and draft.amount is None:
        raise InvalidInput("amount", "is required for PURCHASE events")
    if draft.amount is not None:
        if not math.isfinite(draft.amount):
            raise InvalidInput("amount", "must be a finite number")
        if draft.amount < 0:
            raise InvalidInput("amount", f"must be >= 0, got {draft.amount}")
    if draft.currency is not None and not _CURRENCY.match(draft.currency):
        raise InvalidInput("currency", f"must be a 3-letter ISO code like EUR, got {draft.currency!r}")
    if draft.type == "SURVEY" and draft.score is None:
        raise InvalidInput("score", "is required for SURVEY events")
    if draft.score is not None and not 0 <= draft.score <= 10:
        raise InvalidInput("score", f"must be between 0 and 10, got {draft.score}")
    if draft.direction is not None and draft.direction not in CONTACT_DIRECTIONS:
        raise InvalidInput("direction", f"must be INBOUND or OUTBOUND, got {draft.direction!r}")
    for name, limit in (("category", 100), ("channel", 30), ("reason", 200)):
        value = getattr(draft, name)
        if value is not None and len(value) > limit:
            raise InvalidInput(name, f"must be at most {limit} characters")
    if draft.payload is not None and not isinstance(draft.payload, dict):
        raise InvalidInput("payload", f"must be a JSON object, got {_json_kind(draft.payload)}")
    if draft.idempotency_key is not None and not 1 <= len(draft.idempotency_key) <= 200:
        raise InvalidInput("idempotencyKey", "must be 1-200 characters")
