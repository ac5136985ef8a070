"""The customer view: profile, stage, segments, timeline and referrals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.types.enums import AcquisitionChannel, Stage
from api.types.event import Event, EventConnection
from api.types.pagination import Edge, PageInfo, edges_of
from api.types.segment import Segment, StageChange
from services import cursors, domain

DEFAULT_TIMELINE = 10


@strawberry.type
class Customer:
    _customer: strawberry.Private[domain.Customer]

    id: strawberry.ID
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    region: str | None
    attributes: JSON
    acquisition_channel: AcquisitionChannel
    stage: Stage
    stage_changed_at: datetime
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None

    @classmethod
    def from_domain(cls, customer: domain.Customer) -> Customer:
        return cls(
            _customer=customer,
            id=strawberry.ID(str(customer.id)),
            external_id=customer.external_id,
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            region=customer.region,
            attributes=customer.attributes,
            acquisition_channel=AcquisitionChannel(customer.acquisition_channel),
            stage=Stage(customer.stage),
            stage_changed_at=customer.stage_changed_at,
            created_at=customer.created_at,
            updated_at=customer.updated_at,
            erased_at=customer.erased_at,
        )

    @strawberry.field(description="Every stage move, newest first.")
    async def stage_history(self, info: Info) -> list[StageChange]:
        changes = await info.context.loaders.stage_history.load(self._customer.id)
        return [StageChange.from_domain(c) for c in changes]

    @strawberry.field
    async def segments(self, info: Info) -> list[Segment]:
        found = await info.context.loaders.segments.load(self._customer.id)
        return [Segment.from_domain(s) for s in found]

    @strawberry.field(description="The timeline, newest first.")
    async def events(
        self, info: Info, first: int = DEFAULT_TIMELINE, after: str | None = None
    ) -> EventConnection:
        if after is None and 1 <= first <= 50:
            # The common first page goes through a loader, so a list of customers stays cheap.
            rows = await info.context.loaders.latest_events.load((self._customer.id, first))
            page = domain.Page(
                items=tuple(rows[:first]),
                cursors=tuple(cursors.encode(e.occurred_at, e.id) for e in rows[:first]),
                has_next=len(rows) > first,
            )
        else:
            page = await info.context.services.events.timeline(self._customer.id, first=first, after=after)
        edges, info_ = edges_of(page, Event.from_domain)
        return EventConnection(edges=edges, page_info=info_)

    @strawberry.field(description="The customer who referred this one.")
    async def referrer(self, info: Info) -> Annotated[Customer, strawberry.lazy("api.types.customer")] | None:
        if self._customer.referred_by_id is None:
            return None
        found = await info.context.loaders.customer.load(self._customer.referred_by_id)
        return Customer.from_domain(found) if found else None

    @strawberry.field(description="The customers this one referred.")
    async def referrals(self, info: Info) -> list[Annotated[Customer, strawberry.lazy("api.types.customer")]]:
        found = await info.context.loaders.referrals.load(self._customer.id)
        return [Customer.from_domain(c) for c in found]


@strawberry.type
class CustomerConnection:
    edges: list[Edge[Customer]]
    page_info: PageInfo
    _count: strawberry.Private[object]

    @strawberry.field(description="Customers matching the filter; counted only when asked for.")
    async def total_count(self) -> int:
        return await self._count()  # type: ignore[operator]
