"""Per-request DataLoaders: every nested customer field costs one query per page, not per row."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Loaders:
    customer: DataLoader[int, domain.Customer | None]
    segments: DataLoader[int, list[domain.Segment]]
    stage_history: DataLoader[int, list[domain.StageChange]]
    referrals: DataLoader[int, list[domain.Customer]]
    latest_events: DataLoader[tuple[int, int], list[domain.Event]]
    standing: DataLoader[int, Standing | None]
    alerts: DataLoader[int, list[Alert]]
    churn_reason: DataLoader[int, Reason | None]
    referral_counts: DataLoader[int, tuple[int, int]]
    decision_outcome: DataLoader[int, Outcome | None]
    lever: DataLoader[str, Lever | None]
    customer_decisions: DataLoader[tuple[int, int], list[Decision]]

    @classmethod
    def build(cls, services: Services) -> Loaders:
        async def customers(ids: Sequence[int]) -> list[domain.Customer | None]:
            found = await services.customers.many(ids)
            return [found.get(i) for i in ids]

        async def segments(ids: Sequence[int]) -> list[list[domain.Segment]]:
            found = await services.segments.of_customers(ids)
            return [found.get(i, []) for i in ids]

        async def history(ids: Sequence[int]) -> list[list[domain.StageChange]]:
            found = await services.stages.history(ids)
            return [found.get(i, []) for i in ids]

        async def referrals(ids: Sequence[int]) -> list[list[domain.Customer]]:
            found = await services.customers.referrals_of(ids)
            return [found.get(i, []) for i in ids]

        async def latest(keys: Sequence[tuple[int, int]]) -> list[list[domain.Event]]:
            # Keys are (customer id, how many): one windowed query per distinct page size.
            by_size: dict[int, list[int]] = {}
            for customer_id, size in keys:
                by_size.setdefault(size, []).append(customer_id)
            found = {
                size: await services.events.latest(ids, size + 1) for size, ids in by_size.items()
            }
            return [found[size].get(customer_id, []) for customer_id, size in keys]

        async def standing(ids: Sequence[int]) -> list[Standing | None]:
            found = await services.lifecycle.standings(ids)
            return [found.get(i) for i in ids]

        async def alerts(ids: Sequence[int]) -> list[list[Alert]]:
            found = await services.alerts.of_customers(ids)
            return [found.get(i, []) for i in ids]

        async def churn_reason(ids: Sequence[int]) -> list[Reason | None]:
            found = await services.reasons.latest(ids, "CHURN")
            return [found.get(i) for i in ids]

        async def referral_counts(ids: Sequence[int]) -> list[tuple[int, int]]:
            found = await services.analytics.referral_counts(list(ids))
            return [found.get(i, (0, 0)) for i in ids]

        async def decision_outcome(ids: Sequence[int]) -> list[Outcome | None]:
            found = await services.offers.outcomes.of_decisions(ids)
            return [found.get(i) for i in ids]

        async def levers(keys: Sequence[str]) -> list[Lever | None]:
            found = await services.offers.levers_by_keys(list(keys))
            return [found.get(k) for k in keys]

        async def customer_decisions(keys: Sequence[tuple[int, int]]) -> list[list[Decision]]:
            # Keys are (customer id, how many), like latest_events.
            by_size: dict[int, list[int]] = {}
            for customer_id, size in keys:
                by_size.setdefault(size, []).append(customer_id)
            found = {size: await services.offers.decisions.of_customers(ids, size) for size, ids in by_size.items()}
            return [found[size].get(customer_id, []) for customer_id, size in keys]

        return cls(
            customer=DataLoader(customers),
            segments=DataLoader(segments),
            stage_history=DataLoader(history),
            referrals=DataLoader(referrals),
            latest_events=DataLoader(latest),
            standing=DataLoader(standing),
            alerts=DataLoader(alerts),
            churn_reason=DataLoader(churn_reason),
            referral_counts=DataLoader(referral_counts),
            decision_outcome=DataLoader(decision_outcome),
            lever=DataLoader(levers),
            customer_decisions=DataLoader(customer_decisions),
        )
