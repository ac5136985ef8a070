"""Frozen values passed between the layers. ORM rows never leave the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

# The vocabularies are defined once, beside the database constraints that enforce them, and
# re-exported here for the layers above.
from db.models.customer import CHANNELS, STAGES  # noqa: F401
from db.models.event import EVENT_TYPES  # noqa: F401

T = TypeVar("T")

CONTACT_DIRECTIONS = ("INBOUND", "OUTBOUND")


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    region: str | None
    attributes: dict[str, Any]
    acquisition_channel: str
    referred_by_id: int | None
    stage: str
    stage_changed_at: datetime
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    customer_id: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    amount: float | None
    currency: str | None
    category: str | None
    score: int | None
    channel: str | None
    direction: str | None
    reason: str | None
    payload: dict[str, Any]
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class StageChange:
    id: int
    customer_id: int
    from_stage: str | None
    to_stage: str
    at: datetime
    reason: str | None
    rule: str


@dataclass(frozen=True, slots=True)
class Segment:
    id: int
    key: str
    name: str
    description: str | None
    member_count: int | None = None


@dataclass(frozen=True, slots=True)
class StageCount:
    stage: str
    count: int


@dataclass(frozen=True, slots=True)
class ItemError:
    """One rejected item of a bulk call: ``index`` is its position (None for the whole call)."""

    index: int | None
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class BulkResult:
    accepted: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: tuple[ItemError, ...] = ()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A keyset page: ``keys[i]`` is the (sort value, id) position right after ``items[i]``.

    Keys stay raw; they become opaque cursors only where a caller asks for one.
    """

    items: tuple[T, ...]
    keys: tuple[tuple[Any, int], ...]
    has_next: bool


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    stage: str | None = None
    segment_key: str | None = None
    acquisition_channel: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    search: str | None = None
    include_erased: bool = False


# Fields a caller did not send are UNSET and keep their stored value on update.
class _Unset:
    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass(frozen=True, slots=True)
class CustomerDraft:
    external_id: str
    name: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    region: str | None = UNSET
    attributes: Any = UNSET
    acquisition_channel: str | None = UNSET
    referred_by_external_id: str | None = UNSET


@dataclass(frozen=True, slots=True)
class EventDraft:
    external_id: str
    type: str
    occurred_at: datetime | None
    amount: float | None = None
    currency: str | None = None
    category: str | None = None
    score: int | None = None
    channel: str | None = None
    direction: str | None = None
    reason: str | None = None
    payload: Any = field(default=None)
    idempotency_key: str | None = None
