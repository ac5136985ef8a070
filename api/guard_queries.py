"""Queries of the guards around deciding: budgets, contact policies, contact history, campaigns (merged into the root Query)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.permissions import EVERY_ROLE, OFFER_CATALOGUE
from api.context import Info
from api.types.budgets import Budget
from api.types.campaigns import Campaign
from api.types.contacts import Contact, ContactPolicy
from services.errors import InvalidInput, ServiceError

MAX_CONTACTS = 500


@strawberry.type
class GuardQuery:
    @strawberry.field(permission_classes=[OFFER_CATALOGUE], description="Every budget with what its current period has used and has left.")
    async def budgets(self, info: Info) -> list[Budget]:
        return [Budget.from_domain(s) for s in await info.context.services.offers.budgets.states()]

    @strawberry.field(permission_classes=[OFFER_CATALOGUE], description="The global contact policy and every decision point's.")
    async def contact_policies(self, info: Info) -> list[ContactPolicy]:
        return [ContactPolicy.from_domain(p) for p in await info.context.services.offers.contacts.all()]

    @strawberry.field(permission_classes=[EVERY_ROLE], description="A customer's contacts (activated decisions), newest first. Name the customer by customerId or externalId.")
    async def contact_history(
        self, info: Info, customer_id: strawberry.ID | None = None, external_id: str | None = None,
        since: datetime | None = None, first: int = 20,
    ) -> list[Contact]:
        return await contacts_of(info, customer_id, external_id, since, first)

    @strawberry.field(permission_classes=[OFFER_CATALOGUE], description="A campaign by id; null when there is none.")
    async def campaign(self, info: Info, id: strawberry.ID) -> Campaign | None:
        try:
            found = await info.context.services.offers.campaigns.get(int(id))
        except ValueError:
            return None
        return Campaign.from_domain(found) if found is not None else None

    @strawberry.field(permission_classes=[OFFER_CATALOGUE], description="The newest campaigns first.")
    async def campaigns(self, info: Info, first: int = 50) -> list[Campaign]:
        if not 1 <= first <= 500:
            raise InvalidInput("first", f"must be between 1 and 500, got {first}")
        return [Campaign.from_domain(c) for c in await info.context.services.offers.campaigns.all(first)]


async def contacts_of(
    info: Info, customer_id: strawberry.ID | None, external_id: str | None, since: datetime | None, first: int
) -> list[Contact]:
    if not 1 <= first <= MAX_CONTACTS:
        raise InvalidInput("first", f"must be between 1 and {MAX_CONTACTS}, got {first}")
    if (customer_id is None) == (external_id is None):
        raise InvalidInput("externalId", "give exactly one of customerId and externalId")
    customers = info.context.services.customers
    try:
        customer = await (customers.get(int(customer_id)) if customer_id is not None else customers.get_by_external_id(external_id or ""))
    except ValueError:
        raise InvalidInput("customerId", f"not a customer id: {customer_id!r}") from None
    except ServiceError as exc:  # the message names the customer
        raise InvalidInput("customerId" if customer_id is not None else "externalId", exc.message) from None
    return [Contact.from_domain(c) for c in await info.context.services.offers.contacts.history(customer.id, since, first)]
