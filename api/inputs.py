"""GraphQL input types and their conversion into service drafts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.bulk_variables import build_items_with
from api.types.enums import AcquisitionChannel, ContactDirection, EventType, Stage
from services.domain import UNSET, CustomerDraft, CustomerFilter, EventDraft


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


# Bulk inputs (up to 10,000 items a call) are built straight into service drafts from the values
# graphql-core has already coerced and checked, through Strawberry's `from_input` hook: the
# generic per-field conversion was measured as the largest cost of a recordEvents call.
# Resolvers therefore receive CustomerDraft / EventDraft objects for these two inputs. A long list
# variable gets its drafts from the compiled coercion plan already (api.bulk_variables), which the
# hooks then hand on unchanged.
def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _customer_draft(_: type, value: Mapping[str, Any] | CustomerDraft, __: Any) -> CustomerDraft:
    return value if isinstance(value, CustomerDraft) else customer_draft(value)


def customer_draft(value: Mapping[str, Any]) -> CustomerDraft:
    get = value.get
    channel = get("acquisitionChannel", UNSET)
    return CustomerDraft(
        external_id=value["externalId"],
        name=get("name", UNSET),
        email=get("email", UNSET),
        phone=get("phone", UNSET),
        region=get("region", UNSET),
        attributes=get("attributes", UNSET),
        acquisition_channel=_plain(channel),
        referred_by_external_id=get("referredByExternalId", UNSET),
    )


def _event_draft(_: type, value: Mapping[str, Any] | EventDraft, __: Any) -> EventDraft:
    return value if isinstance(value, EventDraft) else event_draft(value)


def event_draft(value: Mapping[str, Any]) -> EventDraft:
    get = value.get
    return EventDraft(
        external_id=value["externalId"],
        type=_plain(value["type"]),
        occurred_at=value["occurredAt"],
        amount=get("amount"),
        currency=get("currency"),
        category=get("category"),
        score=get("score"),
        channel=get("channel"),
        direction=_plain(get("direction")),
        reason=get("reason"),
        payload=get("payload"),
        idempotency_key=get("idempotencyKey"),
    )


CustomerInput.__strawberry_definition__.from_input = _customer_draft  # type: ignore[attr-defined]
EventInput.__strawberry_definition__.from_input = _event_draft  # type: ignore[attr-defined]
build_items_with("CustomerInput", customer_draft)
build_items_with("EventInput", event_draft)


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
