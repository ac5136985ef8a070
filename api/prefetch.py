"""Look ahead at what a customer list asks for, and batch-load it before the rows resolve.

Each entry maps a Customer field to the loader keys it needs for a page of customers; the page
resolver loads them all in one batch per loader, and the field resolvers then answer from the
loader cache synchronously (see ``api.loaders.now_or_later``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, Selection, SelectedField

from api.loaders import MAX_LOADED_TIMELINE, Loaders
from services import domain
from services.customers import Customers, PageView

Plan = Callable[[Loaders, Sequence[domain.Customer], SelectedField], Any]


def _page_size(field: SelectedField) -> int | None:
    """The field's `first` when its page can come from a batched loader, else None.

    Look-ahead arguments come as written in the query (literals may arrive as text); a value that
    does not read as a page size is simply not prefetched: the field resolves it itself.
    """
    try:
        first = int(field.arguments.get("first", 10))
    except (TypeError, ValueError):
        return None
    return first if 1 <= first <= MAX_LOADED_TIMELINE else None


def _events(loaders: Loaders, page: Sequence[domain.Customer], field: SelectedField) -> Any:
    first = _page_size(field)
    if first is None or field.arguments.get("after") is not None:
        return None
    return loaders.latest_events.load_many([(c.id, first) for c in page])


def _decisions(loaders: Loaders, page: Sequence[domain.Customer], field: SelectedField) -> Any:
    first = _page_size(field)
    return None if first is None else loaders.customer_decisions.load_many([(c.id, first) for c in page])


def _referrer(loaders: Loaders, page: Sequence[domain.Customer], _: SelectedField) -> Any:
    return loaders.customer.load_many(sorted({c.referred_by_id for c in page if c.referred_by_id}))


def _by_id(pick: Callable[[Loaders], Any]) -> Plan:
    """A plan for a field whose loader is keyed by the customer id alone."""
    return lambda loaders, page, _: pick(loaders).load_many([c.id for c in page])


# Customer fields answered from the lifecycle standing (RFM, tier, purchase rhythm).
STANDING_FIELDS = frozenset({"rfm", "valueTier", "daysSinceLastPurchase", "purchaseRhythmDays"})

PLANS: dict[str, Plan] = {
    "segments": _by_id(lambda loaders: loaders.segments),
    "stageHistory": _by_id(lambda loaders: loaders.stage_history),
    "referrals": _by_id(lambda loaders: loaders.referrals),
    "rfm": _by_id(lambda loaders: loaders.standing),
    "valueTier": _by_id(lambda loaders: loaders.standing),
    "daysSinceLastPurchase": _by_id(lambda loaders: loaders.standing),
    "purchaseRhythmDays": _by_id(lambda loaders: loaders.standing),
    "alerts": _by_id(lambda loaders: loaders.alerts),
    "churnReason": _by_id(lambda loaders: loaders.churn_reason),
    "referralCount": _by_id(lambda loaders: loaders.referral_counts),
    "referralConversions": _by_id(lambda loaders: loaders.referral_counts),
    "events": _events,
    "referrer": _referrer,
    "decisions": _decisions,
}


def _fields(selections: Sequence[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            yield from _fields(selection.selections)


def node_fields(selected: Sequence[Selection], path: Sequence[str] = ("edges", "node")) -> list[SelectedField]:
    """The fields selected under ``edges { node { ... } }`` of a connection field."""
    level = list(_fields(selected))
    for name in path:
        level = [sub for field in level if field.name == name for sub in _fields(field.selections)]
    return level


def _nested_views(fields: Sequence[SelectedField]) -> tuple[bool, int | None]:
    """Whether ``fields`` (a customer's) ask for segments, and the size of the first timeline
    page they ask for (None when the loaders cannot serve it)."""
    segments = any(field.name == "segments" for field in fields)
    sizes = [
        size for field in fields
        if field.name == "events" and field.arguments.get("after") is None and (size := _page_size(field)) is not None
    ]
    return segments, sizes[0] if sizes else None


def _prime(loaders: Loaders, view: PageView, timeline: int | None) -> None:
    """Put the nested views read with a page (or one customer) into their loaders."""
    ids = [c.id for c in view.page.items]
    if view.segments is not None:
        loaders.segments.prime_many({i: view.segments.get(i, []) for i in ids})
    if view.events is not None and timeline is not None:
        loaders.latest_events.prime_many({(i, timeline): view.events.get(i, []) for i in ids})
    if view.standings is not None:
        loaders.standing.prime_many({i: view.standings[i] for i in ids})


async def load_customer_page(
    loaders: Loaders,
    customers: Customers,
    selected: Sequence[Selection],
    where: domain.CustomerFilter,
    **page: Any,
) -> domain.Page[domain.Customer]:
    """The page a customer list asks for, with its nested views loaded before the rows resolve.

    Segments and the first timeline page come with the page itself, from one session, and are
    primed into their loaders; every other nested field is prefetched through its plan (``PLANS``).
    ``selected`` is ``info.selected_fields`` of the connection field; ``page`` the ``page_view``
    keyword arguments (first, after, order, descending).
    """
    fields = node_fields([sub for f in _fields(selected) for sub in f.selections])
    segments, timeline = _nested_views(fields)
    view = await customers.page_view(where, segments=segments, timeline_size=timeline, **page)
    _prime(loaders, view, timeline)
    await _prefetch(loaders, view.page.items, fields)
    return view.page


async def load_customer(
    loaders: Loaders,
    customers: Customers,
    selected: Sequence[Selection],
    *,
    customer_id: int | None = None,
    external_id: str | None = None,
) -> domain.Customer | None:
    """The customer view: one customer, by id or externalId, with its segments, first timeline
    page and lifecycle standing read in the same session (as far as it selects them) and everything
    else it selects prefetched, as for a page.
    ``selected`` is ``info.selected_fields`` of the customer field."""
    fields = [sub for f in _fields(selected) for sub in _fields(f.selections)]
    segments, timeline = _nested_views(fields)
    standing = any(field.name in STANDING_FIELDS for field in fields)
    view = await customers.view(
        customer_id=customer_id, external_id=external_id, segments=segments, timeline_size=timeline, standing=standing
    )
    if view is None:
        return None
    _prime(loaders, view, timeline)
    customer = view.page.items[0]
    loaders.customer.prime(customer.id, customer)
    await _prefetch(loaders, view.page.items, fields)
    return customer


async def _prefetch(loaders: Loaders, page: Sequence[domain.Customer], fields: Sequence[SelectedField]) -> None:
    """Batch-load what ``fields`` (a customer's selected fields) need for every customer of ``page``."""
    if not page:
        return
    pending = []
    for field in fields:
        plan = PLANS.get(field.name)
        if plan is not None and (work := plan(loaders, page, field)) is not None:
            pending.append(work)
    await asyncio.gather(*pending)
