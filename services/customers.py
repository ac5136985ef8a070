"""Customer use cases: the customer view, lists, bulk upsert and erasure."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Customer as CustomerRow
from db.models import Event as EventRow
from db.repositories import customers as repo
from db.repositories import events as event_repo
from db.repositories import lifecycle as lifecycle_repo
from db.repositories import segments as segment_repo
from services import cursors, mapping
from services.domain import (
    UNSET,
    BulkResult,
    Customer,
    CustomerDraft,
    CustomerFilter,
    Event,
    ItemError,
    Page,
    Segment,
)
from services.errors import CustomerNotFound, InvalidInput
from services.lifecycle.values import Standing, standings_from
from services.validation import check_batch_size, check_customer

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class PageView:
    """A page of customers with the nested views a list asked for, read in one session.

    ``segments`` maps each customer id on the page to its segments, ``events`` to its
    ``timeline_size + 1`` newest events (one more than shown, so a timeline knows it continues),
    ``standings`` to its lifecycle standing (read with the single-customer ``view`` only); each is
    None when it was not asked for.
    """

    page: Page[Customer]
    segments: dict[int, list[Segment]] | None = None
    events: dict[int, list[Event]] | None = None
    standings: dict[int, Standing] | None = None
_PROFILE_FIELDS = ("name", "email", "phone", "region", "attributes", "acquisition_channel")


# Called inside the upsert's transaction with the ids of customers whose contact data was set:
# the lifecycle places a prospect who gave an email or a phone in ACQUISITION.
OnContactData = Callable[[AsyncSession, set[int]], Awaitable[object]]


class Customers:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        on_contact_data: OnContactData | None = None,
        lookups: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessions = sessionmaker
        # Read-only lookups (db.session.make_lookup_sessionmaker): the view, lists and loaders.
        self._lookups = lookups or sessionmaker
        self._on_contact_data = on_contact_data

    async def get(self, customer_id: int) -> Customer:
        async with self._lookups() as session:
            row = await session.get(CustomerRow, customer_id)
        if row is None:
            raise CustomerNotFound(customer_id=customer_id)
        return mapping.customer(row)

    async def get_by_external_id(self, external_id: str) -> Customer:
        async with self._lookups() as session:
            row = await repo.by_external_id(session, external_id)
        if row is None:
            raise CustomerNotFound(external_id=external_id)
        return mapping.customer(row)

    async def many(self, ids: Sequence[int]) -> dict[int, Customer]:
        """Customers by id, for DataLoaders: missing ids are simply absent."""
        async with self._lookups() as session:
            rows = await repo.by_ids(session, ids)
        return {customer.id: customer for customer in mapping.customers(rows)}

    async def referrals_of(self, referrer_ids: Sequence[int]) -> dict[int, list[Customer]]:
        async with self._lookups() as session:
            rows = await repo.referred_by(session, referrer_ids)
        found: dict[int, list[Customer]] = {}
        for customer in mapping.customers(rows):
            found.setdefault(customer.referred_by_id or 0, []).append(customer)
        return found

    async def page(
        self,
        where: CustomerFilter,
        *,
        first: int = 50,
        after: str | None = None,
        order: str = "CREATED_AT",
        descending: bool = True,
    ) -> Page[Customer]:
        """One keyset page of customers matching ``where``, in a stable (order, id) sequence."""
        view = await self.page_view(where, first=first, after=after, order=order, descending=descending)
        return view.page

    async def page_view(
        self,
        where: CustomerFilter,
        *,
        first: int = 50,
        after: str | None = None,
        order: str = "CREATED_AT",
        descending: bool = True,
        segments: bool = False,
        timeline_size: int | None = None,
    ) -> PageView:
        """``page`` plus, on request, the page's segments and newest events, on one connection.

        One session instead of one per nested view: a customer list pays one connection checkout
        and one transaction whatever it nests.
        """
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInput("first", f"must be between 1 and {MAX_PAGE}, got {first}")
        if order not in repo.ORDER_COLUMNS:
            raise InvalidInput("orderBy", f"unknown order {order!r}")
        position = cursors.decode(after) if after else None
        terms = repo.filtered(**_filter_args(where))
        query = repo.page_query(terms, order=order, descending=descending, after=position, limit=first + 1)
        key = "id" if order == "ID" else "created_at"
        async with self._lookups() as session:
            rows = list((await session.execute(query)).all())
            shown = mapping.customers(rows[:first])
            page = Page(
                items=tuple(shown),
                keys=tuple((getattr(customer, key), customer.id) for customer in shown),
                has_next=len(rows) > first,
            )
            return await _with_nested(session, page, segments=segments, timeline_size=timeline_size)

    async def view(
        self,
        *,
        customer_id: int | None = None,
        external_id: str | None = None,
        segments: bool = False,
        timeline_size: int | None = None,
        standing: bool = False,
    ) -> PageView | None:
        """One customer (by id, else by externalId) with the nested views asked for, read in one
        session like ``page_view``; None when there is no such customer.

        The customer view asks for its segments, first timeline page and lifecycle standing with
        the profile: one connection checkout and one transaction instead of one per nested view.
        """
        if (customer_id is None) == (external_id is None):
            raise ValueError("give exactly one of customer_id and external_id")
        async with self._lookups() as session:
            row = await repo.row_by(session, customer_id=customer_id, external_id=external_id)
            if row is None:
                return None
            page = Page(items=(mapping.customer(row),), keys=((row.created_at, row.id),), has_next=False)
            return await _with_nested(session, page, segments=segments, timeline_size=timeline_size, standing=standing)

    async def count(self, where: CustomerFilter) -> int:
        async with self._lookups() as session:
            return await repo.count(session, repo.filtered(**_filter_args(where)))

    async def upsert_many(self, drafts: Sequence[CustomerDraft]) -> BulkResult:
        """Create or update customers by externalId in one transaction.

        Valid items are written; each invalid one is reported by index and nothing of it is
        stored. Fields a draft leaves UNSET keep their stored values.
        """
        check_batch_size(list(drafts))
        errors: list[ItemError] = []
        valid: dict[str, tuple[int, CustomerDraft]] = {}
        for index, draft in enumerate(drafts):
            try:
                check_customer(draft)
            except InvalidInput as exc:
                errors.append(ItemError(index, exc.field, exc.reason))
                continue
            if draft.external_id in valid:
                earlier = valid[draft.external_id][0]
                errors.append(ItemError(index, "externalId", f"repeats item {earlier} in this call"))
                continue
            valid[draft.external_id] = (index, draft)

        async with self._sessions.begin() as session:
            known = await repo.ids_by_external_ids(session, valid)
            referrers = {d.referred_by_external_id for _, d in valid.values() if d.referred_by_external_id}
            known_referrers = await repo.ids_by_external_ids(session, referrers - set(valid) - set(known))
            # Dropping one item can orphan another that named it as referrer: repeat until stable.
            dropped = True
            while dropped:
                dropped = False
                for ext in list(valid):
                    index, draft = valid[ext]
                    ref = draft.referred_by_external_id
                    if ref and ref not in known_referrers and ref not in valid and ref not in known:
                        message = f"no customer with externalId {ref!r}"
                        errors.append(ItemError(index, "referredByExternalId", message))
                        del valid[ext]
                        dropped = True

            now = datetime.now(UTC)
            new_rows = [_new_row(d, now) for ext, (_, d) in valid.items() if ext not in known]
            created = await repo.insert_new(session, new_rows)
            ids = {**known_referrers, **known, **created}
            # A row that lost an insert race to another writer is updated like a known one.
            missing = [ext for ext in valid if ext not in ids]
            ids.update(await repo.ids_by_external_ids(session, missing))
            updates = []
            for ext, (_, draft) in valid.items():
                row = _changes(draft) if ext not in created else {}
                ref = draft.referred_by_external_id
                if ref is not UNSET:
                    row["referred_by_id"] = ids[ref] if ref else None
                if row:
                    updates.append({"id": ids[ext], **row, "updated_at": now})
            await repo.update_many(session, updates)
            touched = {ids[ext] for ext, (_, d) in valid.items() if d.email or d.phone}
            if self._on_contact_data is not None and touched:
                await self._on_contact_data(session, touched)
        return BulkResult(
            accepted=len(valid),
            created=len(created),
            updated=len(valid) - len(created),
            errors=tuple(sorted(errors, key=lambda e: e.index or 0)),
        )

    async def erase(self, external_id: str) -> Customer:
        """Remove a customer's personal data for good, keeping anonymised aggregates.

        Name, email, phone, region, attributes and event payloads are wiped and the externalId is
        replaced by a random token; events (types, amounts, dates), stages and segment counts stay.
        """
        async with self._sessions.begin() as session:
            row = await repo.by_external_id(session, external_id)
            if row is None:
                raise CustomerNotFound(external_id=external_id)
            now = datetime.now(UTC)
            row.external_id = f"erased-{secrets.token_hex(12)}"
            row.name = row.email = row.phone = row.region = None
            row.attributes = {}
            row.erased_at = now
            await session.execute(
                update(EventRow)
                .where(EventRow.customer_id == row.id)
                .values(payload={}, idempotency_key=None)
            )
            await session.flush()
            return mapping.customer(row)


def _filter_args(where: CustomerFilter) -> dict[str, Any]:
    return {
        "stage": where.stage,
        "segment_key": where.segment_key,
        "acquisition_channel": where.acquisition_channel,
        "created_from": where.created_from,
        "created_to": where.created_to,
        "search": where.search,
        "include_erased": where.include_erased,
    }


def _changes(draft: CustomerDraft) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in _PROFILE_FIELDS:
        value = getattr(draft, name)
        if value is UNSET:
            continue
        if name == "attributes":
            value = {k: v for k, v in (value or {}).items() if v is not None}
        elif name == "acquisition_channel":
            value = value or "OTHER"
        row[name] = value
    return row


def _new_row(draft: CustomerDraft, now: datetime) -> dict[str, Any]:
    return {
        "external_id": draft.external_id,
        "name": None,
        "email": None,
        "phone": None,
        "region": None,
        "attributes": {},
        "acquisition_channel": "OTHER",
        "stage": "AWARENESS",
        "stage_changed_at": now,
        "created_at": now,
        "updated_at": now,
        **_changes(draft),
    }


async def _with_nested(
    session: AsyncSession, page: Page[Customer], *, segments: bool, timeline_size: int | None, standing: bool = False
) -> PageView:
    """``page`` with the nested views asked for, read in ``session``: one statement each, for the
    whole page (``page_view``) or its one customer (``view``)."""
    ids = [customer.id for customer in page.items]
    segment_rows = await segment_repo.for_customers(session, ids) if ids and segments else []
    event_rows = await event_repo.latest_for(session, ids, timeline_size + 1) if ids and timeline_size else []
    standings = standings_from(ids, await lifecycle_repo.standing_rows(session, ids)) if standing else None
    return PageView(
        page,
        _grouped(segment_rows, "member_id", mapping.segment) if segments else None,
        mapping.events_by_customer(event_rows) if timeline_size else None,
        standings,
    )


def _grouped(rows: Sequence[Any], owner: str, convert: Callable[[Any], Any]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for row in rows:
        found.setdefault(getattr(row, owner), []).append(convert(row))
    return found
