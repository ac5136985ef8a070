"""The customer view: profile, stage, segments, timeline and referrals."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.permissions import masked
from api.loaders import MAX_LOADED_TIMELINE, now_or_later
from api.types.enums import AcquisitionChannel, Stage
from api.types.event import Event, EventConnection
from api.types.lifecycle import Alert, AlertStatus, Reason, Rfm, ValueTier
from api.types.pagination import Edge, PageInfo, edges_of
from api.types.segment import Segment, StageChange
from services import domain
from services.errors import InvalidInput

if TYPE_CHECKING:
    from api.types.contacts import Contact
    from api.types.offers import Decision

DEFAULT_TIMELINE = 10
# Enum members by stored value: a dict lookup instead of an Enum call per row.
_STAGES = {member.value: member for member in Stage}
_CHANNELS = {member.value: member for member in AcquisitionChannel}


@strawberry.type
class Customer:
    _customer: strawberry.Private[domain.Customer]

    id: strawberry.ID
    external_id: str

    # Personal data: ANALYST keys see it masked (api.permissions.masked).
    @strawberry.field
    def name(self, info: Info) -> str | None:
        return masked(info, self._customer.name)

    @strawberry.field
    def email(self, info: Info) -> str | None:
        return masked(info, self._customer.email)

    @strawberry.field
    def phone(self, info: Info) -> str | None:
        return masked(info, self._customer.phone)

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
        """The GraphQL view of ``customer``. Personal data (name, email, phone) is read through the
        resolvers above, which mask it for ANALYST keys."""
        return cls(
            _customer=customer,
            id=str(customer.id),  # strawberry.ID is a NewType of str
            external_id=customer.external_id,
            region=customer.region,
            attributes=customer.attributes,
            acquisition_channel=_CHANNELS[customer.acquisition_channel],
            stage=_STAGES[customer.stage],
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

    # Lifecycle view: value scores, alarms, churn reason, referrals and purchase rhythm.
    @strawberry.field(description="Recency, frequency and monetary quintiles (1-5) and the named RFM segment; null for prospects and before the first scoring.")
    def rfm(self, info: Info) -> Rfm | None:
        return now_or_later(
            info.context.loaders.standing, self._customer.id,
            lambda s: Rfm.from_domain(s.rfm) if s is not None and s.rfm is not None else None,
        )

    @strawberry.field(description="PLATINUM, GOLD, SILVER or BRONZE by monetary value in the RFM window.")
    def value_tier(self, info: Info) -> ValueTier | None:
        return now_or_later(
            info.context.loaders.standing, self._customer.id,
            lambda s: ValueTier(s.value_tier) if s is not None and s.value_tier else None,
        )

    @strawberry.field(description="Churn alarms on this customer, newest first.")
    def alerts(self, info: Info, status: AlertStatus | None = None) -> list[Alert]:
        return now_or_later(
            info.context.loaders.alerts, self._customer.id,
            lambda found: [Alert.from_domain(a) for a in found if status is None or a.status == status.value],
        )

    @strawberry.field(description="The latest recorded reason for leaving.")
    def churn_reason(self, info: Info) -> Reason | None:
        return now_or_later(
            info.context.loaders.churn_reason, self._customer.id,
            lambda r: Reason.from_domain(r) if r is not None else None,
        )

    @strawberry.field(description="How many customers this one referred.")
    def referral_count(self, info: Info) -> int:
        return now_or_later(info.context.loaders.referral_counts, self._customer.id, lambda c: c[0])

    @strawberry.field(description="How many of the customers this one referred went on to buy.")
    def referral_conversions(self, info: Info) -> int:
        return now_or_later(info.context.loaders.referral_counts, self._customer.id, lambda c: c[1])

    @strawberry.field(description="Days since the last purchase; null before the first.")
    def days_since_last_purchase(self, info: Info) -> float | None:
        now = info.context.services.lifecycle.now()
        return now_or_later(
            info.context.loaders.standing, self._customer.id,
            lambda s: round((now - s.last_purchase_at).total_seconds() / 86400, 2)
            if s is not None and s.last_purchase_at is not None else None,
        )

    @strawberry.field(description="The customer's own median days between purchases (their rhythm).")
    def purchase_rhythm_days(self, info: Info) -> float | None:
        return now_or_later(
            info.context.loaders.standing, self._customer.id,
            lambda s: s.purchase_rhythm_days if s is not None else None,
        )

    @strawberry.field(description="Contact history: the newest offers decided for this customer, with their outcomes.")
    def decisions(self, info: Info, first: int = DEFAULT_TIMELINE) -> list[Annotated[Decision, strawberry.lazy("api.types.offers")]]:
        if not 1 <= first <= MAX_LOADED_TIMELINE:
            raise InvalidInput("first", f"must be between 1 and {MAX_LOADED_TIMELINE}, got {first}")
        from api.types.offers import Decision

        return now_or_later(
            info.context.loaders.customer_decisions, (self._customer.id, first),
            lambda found: [Decision.from_domain(d) for d in found],
        )

    @strawberry.field(description="Contacts: the customer's activated decisions with their channel, newest first.")
    async def contact_history(
        self, info: Info, first: int = DEFAULT_TIMELINE, since: datetime | None = None
    ) -> list[Annotated[Contact, strawberry.lazy("api.types.contacts")]]:
        if not 1 <= first <= MAX_LOADED_TIMELINE:
            raise InvalidInput("first", f"must be between 1 and {MAX_LOADED_TIMELINE}, got {first}")
        from api.types.contacts import Contact

        found = await info.context.services.offers.contacts.history(self._customer.id, since, first)
        return [Contact.from_domain(c) for c in found]


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
