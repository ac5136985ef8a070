"""Per-request DataLoaders: every nested customer field costs one query per page, not per row."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from services import domain
from services.container import Services
from services.lifecycle.reasons import Reason
from services.lifecycle.values import Alert, Standing
from services.offers.values import Decision, Lever, Outcome


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")

# Timeline pages up to this size are served by the batched "latest events" loader.
MAX_LOADED_TIMELINE = 50


def now_or_later(loader: DataLoader[K, V], key: K, convert: Callable[[V], R]) -> Any:
    """``convert(value)`` at once when the loader already holds ``key``, else an awaitable of it.

    Returning plain values keeps graphql-core on its synchronous path, which is much cheaper than
    one awaited task per field and row.
    """
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return convert(future.result())

    async def later() -> R:
        return convert(await loader.load(key))

    return later()


async def prefetch(loader: DataLoader[K, V], keys: Iterable[K]) -> None:
    """Load ``keys`` in one batch so the fields that need them can answer synchronously."""
    await loader.load_many(list(keys))


class Loaders:
    """This request's DataLoaders, each made the first time a field asks for it.

    Most requests need none of them (``decide``, ``recordOutcome``, ``{ __typename }``): making all
    twelve up front, each with its cache, was about a tenth of the server's time per decide.
    """

    __slots__ = ("_services", "_made")

    def __init__(self, services: Services) -> None:
        self._services = services
        self._made: dict[str, DataLoader[Any, Any]] = {}

    @classmethod
    def build(cls, services: Services) -> Loaders:
        return cls(services)

    def made(self) -> set[str]:
        """The names of the loaders this request has made so far."""
        return set(self._made)

    def _loader(self, name: str, load: Callable[..., Any]) -> DataLoader[Any, Any]:
        # The batch functions are bound to the services, not to this object: a loader whose
        # function pointed back here made a reference cycle, and each request that used loaders
        # left them, their caches and the values in them to the cyclic collector (600 objects
        # for a customer page).
        loader = self._made.get(name)
        if loader is None:
            loader = self._made[name] = DataLoader(functools.partial(load, self._services))
        return loader

    @property
    def customer(self) -> DataLoader[int, domain.Customer | None]:
        return self._loader("customer", _customers)

    @property
    def segments(self) -> DataLoader[int, list[domain.Segment]]:
        return self._loader("segments", _segments)

    @property
    def stage_history(self) -> DataLoader[int, list[domain.StageChange]]:
        return self._loader("stage_history", _history)

    @property
    def referrals(self) -> DataLoader[int, list[domain.Customer]]:
        return self._loader("referrals", _referrals)

    @property
    def latest_events(self) -> DataLoader[tuple[int, int], list[domain.Event]]:
        return self._loader("latest_events", _latest)

    @property
    def standing(self) -> DataLoader[int, Standing | None]:
        return self._loader("standing", _standing)

    @property
    def alerts(self) -> DataLoader[int, list[Alert]]:
        return self._loader("alerts", _alerts)

    @property
    def churn_reason(self) -> DataLoader[int, Reason | None]:
        return self._loader("churn_reason", _churn_reason)

    @property
    def referral_counts(self) -> DataLoader[int, tuple[int, int]]:
        return self._loader("referral_counts", _referral_counts)

    @property
    def decision_outcome(self) -> DataLoader[int, Outcome | None]:
        return self._loader("decision_outcome", _decision_outcome)

    @property
    def lever(self) -> DataLoader[str, Lever | None]:
        return self._loader("lever", _levers)

    @property
    def customer_decisions(self) -> DataLoader[tuple[int, int], list[Decision]]:
        return self._loader("customer_decisions", _customer_decisions)


# -- batch functions, one per loader ---------------------------------------------------------

async def _customers(services: Services, ids: Sequence[int]) -> list[domain.Customer | None]:
    found = await services.customers.many(ids)
    return [found.get(i) for i in ids]


async def _segments(services: Services, ids: Sequence[int]) -> list[list[domain.Segment]]:
    found = await services.segments.of_customers(ids)
    return [found.get(i, []) for i in ids]


async def _history(services: Services, ids: Sequence[int]) -> list[list[domain.StageChange]]:
    found = await services.stages.history(ids)
    return [found.get(i, []) for i in ids]


async def _referrals(services: Services, ids: Sequence[int]) -> list[list[domain.Customer]]:
    found = await services.customers.referrals_of(ids)
    return [found.get(i, []) for i in ids]


def _by_size(keys: Sequence[tuple[int, int]]) -> dict[int, list[int]]:
    """(customer id, how many) keys grouped into the customer ids of each size."""
    by_size: dict[int, list[int]] = {}
    for customer_id, size in keys:
        by_size.setdefault(size, []).append(customer_id)
    return by_size


async def _latest(services: Services, keys: Sequence[tuple[int, int]]) -> list[list[domain.Event]]:
    # Keys are (customer id, how many): one windowed query per distinct page size.
    found = {size: await services.events.latest(ids, size + 1) for size, ids in _by_size(keys).items()}
    return [found[size].get(customer_id, []) for customer_id, size in keys]


async def _standing(services: Services, ids: Sequence[int]) -> list[Standing | None]:
    found = await services.lifecycle.standings(ids)
    return [found.get(i) for i in ids]


async def _alerts(services: Services, ids: Sequence[int]) -> list[list[Alert]]:
    found = await services.alerts.of_customers(ids)
    return [found.get(i, []) for i in ids]


async def _churn_reason(services: Services, ids: Sequence[int]) -> list[Reason | None]:
    found = await services.reasons.latest(ids, "CHURN")
    return [found.get(i) for i in ids]


async def _referral_counts(services: Services, ids: Sequence[int]) -> list[tuple[int, int]]:
    found = await services.analytics.referral_counts(list(ids))
    return [found.get(i, (0, 0)) for i in ids]


async def _decision_outcome(services: Services, ids: Sequence[int]) -> list[Outcome | None]:
    found = await services.offers.outcomes.of_decisions(ids)
    return [found.get(i) for i in ids]


async def _levers(services: Services, keys: Sequence[str]) -> list[Lever | None]:
    found = await services.offers.levers_by_keys(list(keys))
    return [found.get(k) for k in keys]


async def _customer_decisions(services: Services, keys: Sequence[tuple[int, int]]) -> list[list[Decision]]:
    # Keys are (customer id, how many), like latest_events.
    found = {size: await services.offers.decisions.of_customers(ids, size) for size, ids in _by_size(keys).items()}
    return [found[size].get(customer_id, []) for customer_id, size in keys]
