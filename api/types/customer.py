"""The customer view: profile, stage, segments, timeline and referrals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.loaders import MAX_LOADED_TIMELINE, now_or_later
from api.types.enums import AcquisitionChannel, Stage
from api.types.event import Event, EventConnection
from api.types.pagination import Edge, PageInfo, edges_of
from api.types.segment import Segment, StageChange
from services import domain

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

    # Resolvers are plain functions: when the page resolver has prefetched through the loaders
    # they answer at once, and only a cache miss becomes an awaitable.
    @strawberry.field(description="Every stage move, newest first.")
    def stage_history(self, info: Info) -> list[StageChange]:
        return now_or_later(
            info.context.loaders.stage_history, self._customer.id,
            lambda changes: [StageChange.from_domain(c) for c in changes],
        )

    @strawberry.field
    def segments(self, info: Info) -> list[Segment]:
        return now_or_later(
            info.context.loaders.segments, self._customer.id,
            lambda found: [Segment.from_domain(s) for s in found],
        )

    @strawberry.field(description="The timeline, newest first.")
    def events(self, info: Info, first: int = DEFAULT_TIMELINE, after: str | None = None) -> EventConnection:
        if after is None and 1 <= first <= MAX_LOADED_TIMELINE:
            # The common first page goes through a loader, so a list of customers stays cheap.
            return now_or_later(
                info.context.loaders.latest_events, (self._customer.id, first),
                lambda rows: _timeline(rows, first),
            )
        return _timeline_page(info, self._customer.id, first, after)

    @strawberry.field(description="The customer who referred this one.")
    def referrer(self, info: Info) -> Annotated[Customer, strawberry.lazy("api.types.customer")] | None:
        if self._customer.referred_by_id is None:
            return None
        return now_or_later(
            info.context.loaders.customer, self._customer.referred_by_id,
            lambda found: Customer.from_domain(found) if found else None,
        )

    @strawberry.field(description="The customers this one referred.")
    def referrals(self, info: Info) -> list[Annotated[Customer, strawberry.lazy("api.types.customer")]]:
        return now_or_later(
            info.context.loaders.referrals, self._customer.id,
            lambda found: [Customer.from_domain(c) for c in found],
        )


def _timeline(rows: list[domain.Event], first: int) -> EventConnection:
    page = domain.Page(
        items=tuple(rows[:first]),
        keys=tuple((e.occurred_at, e.id) for e in rows[:first]),
        has_next=len(rows) > first,
    )
    edges, page_info = edges_of(page, Event.from_domain)
    return EventConnection(edges=edges, page_info=page_info)


async def _timeline_page(info: Info, customer_id: int, first: int, after: str | None) -> EventConnection:
    page = await info.context.services.events.timeline(customer_id, first=first, after=after)
    edges, page_info = edges_of(page, Event.from_domain)
    return EventConnection(edges=edges, page_info=page_info)


@strawberry.type
class CustomerConnection:
    edges: list[Edge[Customer]]
    page_info: PageInfo
    _count: strawberry.Private[object]

    @strawberry.field(description="Customers matching the filter; counted only when asked for.")
    async def total_count(self) -> int:
        return await self._count()  # type: ignore[operator]
