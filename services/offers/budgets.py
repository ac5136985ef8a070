"""Budgets: spend caps per lever and/or decision point per period, reserved atomically.

A decision reserves its share of every budget that covers it (one conditional upsert, see
``db.repositories.budgets.reserve``) in the same transaction that logs it: a decision that is not
written never consumes budget, and granted budget always has its decision.

* A count budget takes 1 per offer; a money budget takes the cost the offer commits to: the
  lever's discount and cost shares of the customer's average order value (0 without purchases),
  plus its unit cost and contact cost. NO_ACTION levers are not offers and take nothing.
* Periods are calendar periods in UTC: DAY from midnight, WEEK from Monday, MONTH from the 1st,
  or DAYS (``days`` long, counted from 1970-01-01).
* Each process keeps the budget list for ``ttl`` seconds (configuring a budget refreshes it at
  once in the process that did it), so deciding costs no statement where no budget applies.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utcnow
from db.repositories import budgets as repo
from db.repositories import offers as offer_repo
from services.errors import InvalidInput
from services.offers import mapping
from services.offers.refreshed import Refreshed
from services.offers.refusals import BudgetExhausted
from services.offers.values import Lever

PERIODS = ("DAY", "WEEK", "MONTH", "DAYS")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KEY_MAX = 64


@dataclass(frozen=True, slots=True)
class BudgetDraft:
    key: str
    period: str
    lever: str | None = None
    decision_point: str | None = None
    days: int | None = None
    max_count: int | None = None
    max_cost: float | None = None
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class Budget:
    id: int
    key: str
    lever: str | None
    decision_point: str | None
    period: str
    days: int
    max_count: int | None
    max_cost: float | None
    fallback: bool

    @property
    def cap(self) -> float:
        return float(self.max_count if self.max_count is not None else self.max_cost or 0.0)

    def covers(self, point: str, lever: str) -> bool:
        return (self.lever is None or self.lever == lever) and (self.decision_point is None or self.decision_point == point)

    def period_of(self, now: datetime) -> tuple[datetime, datetime]:
        """(start, end) of the period that holds ``now``."""
        now = now.astimezone(UTC)
        if self.period == "DAY":
            start = now.replace(hour=0, minute=0, second=0, microsecond=0)
            return start, start + timedelta(days=1)
        if self.period == "WEEK":
            start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
            return start, start + timedelta(days=7)
        if self.period == "MONTH":
            start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
            return start, end
        length = timedelta(days=self.days)
        start = EPOCH + length * ((now - EPOCH) // length)
        return start, start + length


@dataclass(frozen=True, slots=True)
class BudgetState:
    budget: Budget
    period_start: datetime
    resets_at: datetime
    used: float

    @property
    def remaining(self) -> float:
        return max(self.budget.cap - self.used, 0.0)


@dataclass(frozen=True, slots=True)
class Book:
    """The budgets and levers a process knows, as of one refresh."""

    budgets: tuple[Budget, ...]
    levers: dict[str, Lever]

    def for_point(self, point: str) -> tuple[Budget, ...]:
        return tuple(b for b in self.budgets if b.decision_point in (None, point))

    def is_offer(self, lever: str) -> bool:
        found = self.levers.get(lever)
        return found is None or found.kind != "NO_ACTION"


def _budget(row: object) -> Budget:
    return Budget(
        id=row.id, key=row.key, lever=row.lever_key, decision_point=row.decision_point_key,  # type: ignore[attr-defined]
        period=row.period, days=row.period_days, max_count=row.max_count, max_cost=row.max_cost,  # type: ignore[attr-defined]
        fallback=bool(row.fallback),  # type: ignore[attr-defined]
    )


def _check(draft: BudgetDraft) -> None:
    if not draft.key or len(draft.key) > KEY_MAX or not all(c.isalnum() or c in "_-." for c in draft.key):
        raise InvalidInput("key", f"must be 1-{KEY_MAX} letters, digits, '_', '-' or '.', got {draft.key!r}")
    if draft.lever is None and draft.decision_point is None:
        raise InvalidInput("leverKey", "give leverKey, decisionPointKey or both")
    if draft.period not in PERIODS:
        raise InvalidInput("period", f"must be one of {list(PERIODS)}, got {draft.period!r}")
    if draft.period == "DAYS" and (draft.days is None or not 1 <= draft.days <= 3660):
        raise InvalidInput("days", f"period DAYS needs days between 1 and 3660, got {draft.days}")
    if draft.period != "DAYS" and draft.days is not None:
        raise InvalidInput("days", "only period DAYS takes days")
    if (draft.max_count is None) == (draft.max_cost is None):
        raise InvalidInput("maxCount", "give exactly one of maxCount and maxCost")
    if draft.max_count is not None and draft.max_count < 0:
        raise InvalidInput("maxCount", f"must be >= 0, got {draft.max_count}")
    if draft.max_cost is not None and (not math.isfinite(draft.max_cost) or draft.max_cost < 0):
        raise InvalidInput("maxCost", f"must be a finite amount >= 0, got {draft.max_cost}")


class Budgets:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow, ttl: float = 1.0
    ) -> None:
        self._sessions = sessionmaker
        self.clock = clock
        self._book = Refreshed(self._load_book, ttl)

    @property
    def ttl(self) -> float:
        """Seconds this process keeps its copy before reading it again."""
        return self._book.ttl

    @ttl.setter
    def ttl(self, seconds: float) -> None:
        self._book.ttl = seconds

    async def configure(self, draft: BudgetDraft) -> BudgetState:
        """Create or replace a budget by key. Lowering a cap below what the period has used stops
        new reservations; the usage already granted stays."""
        _check(draft)
        now = self.clock()
        async with self._sessions.begin() as session:
            if draft.lever is not None and not await offer_repo.levers_by_keys(session, [draft.lever]):
                raise InvalidInput("leverKey", f"no lever with key {draft.lever!r}")
            if draft.decision_point is not None and await offer_repo.decision_point(session, draft.decision_point) is None:
                raise InvalidInput("decisionPointKey", f"no decision point with key {draft.decision_point!r}")
            row = await repo.upsert_budget(
                session,
                {
                    "key": draft.key, "lever_key": draft.lever, "decision_point_key": draft.decision_point,
                    "period": draft.period, "period_days": draft.days or 1, "max_count": draft.max_count,
                    "max_cost": draft.max_cost, "fallback": draft.fallback,
                },
                now,
            )
            budget = _budget(row)
            start, end = budget.period_of(now)
            used = (await repo.usage(session, [(budget.id, start)])).get(budget.id, 0.0)
        self._book.invalidate()
        return BudgetState(budget, start, end, used)

    async def states(self) -> list[BudgetState]:
        """Every budget with what its current period has used."""
        now = self.clock()
        async with self._sessions() as session:
            budgets = [_budget(row) for row in await repo.all_budgets(session)]
            periods = {b.id: b.period_of(now) for b in budgets}
            used = await repo.usage(session, [(b.id, periods[b.id][0]) for b in budgets])
        return [BudgetState(b, *periods[b.id], used.get(b.id, 0.0)) for b in budgets]

    async def book(self) -> Book:
        """The budgets and levers of this process, re-read at most every ``ttl`` seconds."""
        return await self._book.get()

    async def _load_book(self) -> Book:
        async with self._sessions() as session:
            budgets = tuple(_budget(row) for row in await repo.all_budgets(session))
            levers = {row.key: mapping.lever(row) for row in await offer_repo.all_levers(session)}
        return Book(budgets, levers)

    async def reserve(
        self, session: AsyncSession, book: Book, point: str, chosen: dict[str, str], now: datetime
    ) -> None:
        """Reserve the budgets covering each decision ``{customer id: lever}`` in ``session``'s
        transaction, or raise ``BudgetExhausted`` naming the first budget without room (the caller
        rolls the transaction back)."""
        budgets = book.for_point(point)
        if not budgets:
            return
        wanted: dict[int, float] = {}
        by_id = {b.id: b for b in budgets}
        money = [b for b in budgets if b.max_cost is not None]
        values = await repo.order_values(session, list(chosen)) if money else {}
        for customer_id, lever_key in chosen.items():
            if not book.is_offer(lever_key):
                continue
            for budget in budgets:
                if budget.covers(point, lever_key):
                    amount = 1.0 if budget.max_count is not None else _cost(book.levers.get(lever_key), values.get(customer_id, 0.0))
                    wanted[budget.id] = wanted.get(budget.id, 0.0) + amount
        if not wanted:
            return
        claims = [(b, by_id[b].period_of(now)[0], amount, by_id[b].cap) for b, amount in wanted.items()]
        too_big = [c for c in claims if c[2] > c[3]]
        granted = set() if too_big else await repo.reserve(session, claims)
        refused = sorted((by_id[b] for b in wanted if b not in granted), key=lambda b: b.key)
        if refused:
            budget = refused[0]
            lever = next(lever for lever in chosen.values() if budget.covers(point, lever) and book.is_offer(lever))
            raise BudgetExhausted(budget.key, lever, budget.period_of(now)[1])

    async def reserve_many(
        self, session: AsyncSession, book: Book, point: str, chosen: list[tuple[int, str]], now: datetime
    ) -> dict[int, BudgetExhausted]:
        """For a batch: grant decisions ``(customer id, lever)`` in the given order (a campaign's
        rank order) while their budgets have room, under row locks; returns the refused ones."""
        budgets = book.for_point(point)
        needs: list[tuple[int, str, list[tuple[Budget, float]]]] = []
        money = any(b.max_cost is not None for b in budgets)
        values = await repo.order_values(session, [c for c, _ in chosen]) if money and chosen else {}
        for customer_id, lever_key in chosen:
            covering = [b for b in budgets if book.is_offer(lever_key) and b.covers(point, lever_key)]
            amounts = [
                (b, 1.0 if b.max_count is not None else _cost(book.levers.get(lever_key), values.get(customer_id, 0.0)))
                for b in covering
            ]
            if amounts:
                needs.append((customer_id, lever_key, amounts))
        if not needs:
            return {}
        involved = {b.id: b for _, _, amounts in needs for b, _ in amounts}
        starts = {b.id: b.period_of(now)[0] for b in involved.values()}
        used = await repo.lock_usage(session, [(b.id, starts[b.id], b.cap) for b in involved.values()])
        refused: dict[int, BudgetExhausted] = {}
        granted: set[int] = set()
        for customer_id, lever_key, amounts in needs:
            short = next((b for b, amount in amounts if used[b.id] + amount > b.cap), None)
            if short is not None:
                refused[customer_id] = BudgetExhausted(short.key, lever_key, short.period_of(now)[1])
                continue
            for b, amount in amounts:
                used[b.id] += amount
                granted.add(b.id)
        await repo.set_usage(session, [(b, starts[b], used[b], involved[b].cap) for b in granted])
        return refused


def _cost(lever: Lever | None, order_value: float) -> float:
    """What an offer commits to: its cost if accepted at the customer's average order value, plus contact."""
    if lever is None:
        return 0.0
    return lever.cost_if_accepted(order_value) + lever.contact_cost
