"""Timeline events."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.permissions import masked
from api.types.enums import ContactDirection, EventType
from api.types.pagination import Edge, PageInfo
from services import domain


# Enum members by stored value: a dict lookup instead of an Enum call per row.
_TYPES = {member.value: member for member in EventType}
_DIRECTIONS = {member.value: member for member in ContactDirection}


@strawberry.type
class Event:
    id: strawberry.ID
    type: EventType
    occurred_at: datetime
    recorded_at: datetime
    amount: float | None
    currency: str | None
    category: str | None
    score: int | None
    channel: str | None
    direction: ContactDirection | None
    reason: str | None
    _payload: strawberry.Private[JSON]

    @strawberry.field(description="Free-form data sent with the event; masked for ANALYST keys, as it may hold personal data.")
    def payload(self, info: Info) -> JSON:
        return masked(info, self._payload)

    @classmethod
    def from_domain(cls, event: domain.Event) -> Event:
        return cls(
            id=str(event.id),  # strawberry.ID is a NewType of str
            type=_TYPES[event.type],
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            amount=event.amount,
            currency=event.currency,
            category=event.category,
            score=event.score,
            channel=event.channel,
            direction=_DIRECTIONS[event.direction] if event.direction else None,
            reason=event.reason,
            _payload=event.payload,
        )


@strawberry.type
class EventConnection:
    edges: list[Edge[Event]]
    page_info: PageInfo
