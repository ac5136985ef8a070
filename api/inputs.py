"""GraphQL input types and their conversion into service drafts."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.types.enums import AcquisitionChannel, ContactDirection, EventType, Stage
from services.domain import UNSET, CustomerDraft, CustomerFilter, EventDraft


def _kept(value: object) -> object:
    """Strawberry's UNSET (field not sent) becomes the services' UNSET (keep stored value)."""
    return UNSET if value is strawberry.UNSET else value


@strawberry.input(description="A customer to create or update, matched by externalId. Omitted fields keep their stored value; `attributes` replaces the stored object.")
class CustomerInput:
    external_id: str
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    region: str | None = strawberry.UNSET
    attributes: JSON | None = strawberry.UNSET
    acquisition_channel: AcquisitionChannel | None = strawberry.UNSET
    referred_by_external_id: str | None = strawberry.UNSET

    def to_draft(self) -> CustomerDraft:
        channel = self.acquisition_channel
        return CustomerDraft(
            external_id=self.external_id,
            name=_kept(self.name),
            email=_kept(self.email),
            phone=_kept(self.phone),
            region=_kept(self.region),
            attributes=_kept(self.attributes),
            acquisition_channel=channel.value if isinstance(channel, AcquisitionChannel) else _kept(channel),
            referred_by_external_id=_kept(self.referred_by_external_id),
        )


@strawberry.input(description="One timeline event. Send only the fields its type takes: PURCHASE amount/currency/category, SURVEY score (0-10), CONTACT channel/direction, SUBSCRIPTION_CANCELLED reason.")
class EventInput:
    external_id: str
    type: EventType
    occurred_at: datetime
    amount: float | None = None
    currency: str | None = None
    category: str | None = None
    score: int | None = None
    channel: str | None = None
    direction: ContactDirection | None = None
    reason: str | None = None
    payload: JSON | None = None
    idempotency_key: str | None = None

    def to_draft(self) -> EventDraft:
        return EventDraft(
            external_id=self.external_id,
            type=self.type.value,
            occurred_at=self.occurred_at,
            amount=self.amount,
            currency=self.currency,
            category=self.category,
            score=self.score,
            channel=self.channel,
            direction=self.direction.value if self.direction else None,
            reason=self.reason,
            payload=self.payload,
            idempotency_key=self.idempotency_key,
        )


@strawberry.input(name="CustomerFilter")
class CustomerFilterInput:
    stage: Stage | None = None
    segment_key: str | None = None
    acquisition_channel: AcquisitionChannel | None = None
    created_from: datetime | None = strawberry.field(default=None, description="Inclusive.")
    created_to: datetime | None = strawberry.field(default=None, description="Exclusive.")
    search: str | None = strawberry.field(default=None, description="Substring of name, email or externalId, case-insensitive.")

    def to_filter(self) -> CustomerFilter:
        return CustomerFilter(
            stage=self.stage.value if self.stage else None,
            segment_key=self.segment_key,
            acquisition_channel=self.acquisition_channel.value if self.acquisition_channel else None,
            created_from=self.created_from,
            created_to=self.created_to,
            search=self.search,
        )


@strawberry.input
class SetStageInput:
    external_id: str
    stage: Stage
    reason: str | None = None


@strawberry.input
class SegmentInput:
    key: str
    name: str
    description: str | None = None
    rule: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="A rule tree makes this a rule segment whose members follow the rule: {all|any: [...]}, "
        "{not: ...} or a leaf {field, op, value, eventType?, withinDays?}. Null makes it hand-managed again; "
        "omitted keeps the segment as it is.",
    )


@strawberry.input
class SegmentMembersInput:
    segment_key: str
    external_ids: list[str]
