"""Mutation resolvers: expected failures come back as typed results, never as exceptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.context import Info
from api.permissions import ADMIN_ONLY, FOR_CAMPAIGNS
from api.inputs import CustomerInput, EventInput, SegmentInput, SegmentMembersInput, SetStageInput
from api.types.customer import Customer
from api.types.results import (
    CustomerNotFound,
    InvalidInput,
    RecordEventsPayload,
    SegmentMembershipPayload,
    SegmentNotFound,
    UpsertCustomersPayload,
    bulk_refusal,
)
from api.types.segment import Segment, StageChange
from services import errors


@strawberry.type
class StageSet:
    customer: Customer
    change: StageChange


@strawberry.type(description="Personal data was removed; anonymised aggregates remain.")
class CustomerErased:
    id: strawberry.ID
    erased_at: datetime


SetStageResult = Annotated[StageSet | CustomerNotFound | InvalidInput, strawberry.union("SetStageResult")]
UpsertSegmentResult = Annotated[Segment | InvalidInput, strawberry.union("UpsertSegmentResult")]
MembershipResult = Annotated[
    SegmentMembershipPayload | SegmentNotFound | InvalidInput, strawberry.union("SegmentMembershipResult")
]
DeleteCustomerResult = Annotated[CustomerErased | CustomerNotFound, strawberry.union("DeleteCustomerResult")]


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="Create or update up to 10,000 customers by externalId.")
    async def upsert_customers(self, info: Info, input: list[CustomerInput]) -> UpsertCustomersPayload:
        try:
            # Items arrive as CustomerDraft (see api.inputs: from_input).
            result = await info.context.services.customers.upsert_many(input)  # type: ignore[arg-type]
        except errors.InvalidInput as exc:
            result = bulk_refusal(exc)
        return UpsertCustomersPayload.from_domain(result)

    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="Append up to 10,000 events to customers' timelines.")
    async def record_events(self, info: Info, input: list[EventInput]) -> RecordEventsPayload:
        try:
            # Items arrive as EventDraft (see api.inputs: from_input).
            result = await info.context.services.events.record_many(input)  # type: ignore[arg-type]
        except errors.InvalidInput as exc:
            result = bulk_refusal(exc)
        return RecordEventsPayload.from_domain(result)

    @strawberry.mutation(permission_classes=[ADMIN_ONLY], description="Move a customer to a stage by hand; recorded in the stage history.")
    async def set_stage(self, info: Info, input: SetStageInput) -> SetStageResult:
        try:
            customer, change = await info.context.services.stages.set_stage(
                input.external_id, input.stage.value, input.reason
            )
        except errors.CustomerNotFound as exc:
            return CustomerNotFound.from_error(exc)
        except errors.InvalidInput as exc:
            return InvalidInput.from_error(exc)
        return StageSet(customer=Customer.from_domain(customer), change=StageChange.from_domain(change))

    @strawberry.mutation(permission_classes=[ADMIN_ONLY])
    async def upsert_segment(self, info: Info, input: SegmentInput) -> UpsertSegmentResult:
        try:
            if input.rule is strawberry.UNSET:
                segment = await info.context.services.segments.upsert(input.key, input.name, input.description)
            else:
                segment = await info.context.services.rule_segments.upsert(
                    input.key, input.name, input.description, input.rule
                )
        except errors.InvalidInput as exc:
            return InvalidInput.from_error(exc)
        return Segment.from_domain(segment)

    @strawberry.mutation(permission_classes=[ADMIN_ONLY])
    async def add_to_segment(self, info: Info, input: SegmentMembersInput) -> MembershipResult:
        return await _change_members(info, input, add=True)

    @strawberry.mutation(permission_classes=[ADMIN_ONLY])
    async def remove_from_segment(self, info: Info, input: SegmentMembersInput) -> MembershipResult:
        return await _change_members(info, input, add=False)

    @strawberry.mutation(permission_classes=[ADMIN_ONLY], description="Erase a customer's personal data (name, email, phone, region, attributes, event payloads).")
    async def delete_customer(self, info: Info, external_id: str) -> DeleteCustomerResult:
        try:
            erased = await info.context.services.customers.erase(external_id)
        except errors.CustomerNotFound as exc:
            return CustomerNotFound.from_error(exc)
        assert erased.erased_at is not None
        return CustomerErased(id=strawberry.ID(str(erased.id)), erased_at=erased.erased_at)


async def _change_members(info: Info, input: SegmentMembersInput, *, add: bool) -> MembershipResult:
    try:
        result = await info.context.services.segments.change_members(
            input.segment_key, input.external_ids, add=add
        )
    except errors.SegmentNotFound as exc:
        return SegmentNotFound.from_error(exc)
    except errors.InvalidInput as exc:
        return InvalidInput.from_error(exc)
    return SegmentMembershipPayload.from_domain(result)
