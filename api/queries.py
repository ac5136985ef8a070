"""Query resolvers: parse arguments, call a service, map the result."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Info
from api.permissions import pii_probe, CUSTOMER_VIEWS, EVERY_ROLE
from api.inputs import CustomerFilterInput
from api.prefetch import load_customer, load_customer_page
from api.types.customer import Customer, CustomerConnection
from api.types.enums import CustomerOrder
from api.types.pagination import edges_of
from api.types.segment import Segment, StageCount
from services import errors
from services.domain import CustomerFilter

_ORDERS = {
    CustomerOrder.CREATED_AT_DESC: ("CREATED_AT", True),
    CustomerOrder.CREATED_AT_ASC: ("CREATED_AT", False),
    CustomerOrder.ID_ASC: ("ID", False),
    CustomerOrder.ID_DESC: ("ID", True),
}


def _customer_id(value: strawberry.ID) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[CUSTOMER_VIEWS], description="The customer view by internal id; null when there is none.")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        customer_id = _customer_id(id)
        if customer_id is None:
            return None
        found = await load_customer(info.context.loaders, info.context.services.customers, info.selected_fields, customer_id=customer_id)
        return Customer.from_domain(found) if found else None

    @strawberry.field(permission_classes=[CUSTOMER_VIEWS], description="The customer view by the caller's own id; null when there is none.")
    async def customer_by_external_id(self, info: Info, external_id: str) -> Customer | None:
        found = await load_customer(info.context.loaders, info.context.services.customers, info.selected_fields, external_id=external_id)
        return Customer.from_domain(found) if found else None

    @strawberry.field(permission_classes=[CUSTOMER_VIEWS], description="Customers, keyset-paginated (max 500 per page).")
    async def customers(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        filter: CustomerFilterInput | None = None,
        order_by: Annotated[CustomerOrder, strawberry.argument(description="Default CREATED_AT_DESC.")] = CustomerOrder.CREATED_AT_DESC,
    ) -> CustomerConnection:
        if filter is not None and pii_probe(info, search=filter.search):
            raise errors.InvalidInput("filter.search", "matches name and email, which are masked for ANALYST keys")
        where = filter.to_filter() if filter else CustomerFilter()
        order, descending = _ORDERS[order_by]
        service = info.context.services.customers
        # info.selected_fields sits on the connection field: nested views are read with the page.
        page = await load_customer_page(
            info.context.loaders, service, info.selected_fields, where,
            first=first, after=after, order=order, descending=descending,
        )
        edges, page_info = edges_of(page, Customer.from_domain)
        return CustomerConnection(edges=edges, page_info=page_info, _count=lambda: service.count(where))

    @strawberry.field(permission_classes=[CUSTOMER_VIEWS], description="How many customers are in each lifecycle stage.")
    async def stages(self, info: Info) -> list[StageCount]:
        return [StageCount.from_domain(c) for c in await info.context.services.stages.counts()]

    @strawberry.field(permission_classes=[EVERY_ROLE], description="Every segment with its member count.")
    async def segments(self, info: Info) -> list[Segment]:
        return [Segment.from_domain(s) for s in await info.context.services.segments.all()]
