"""The guards a decision passes in the transaction that logs it: contact policy, then budgets.

``Guards.plan`` says, without touching the database when nothing is configured for the decision
point, which guards apply. ``Guards.admit`` runs them after the decision row is inserted and
before commit; a refusal raises ``Refused``, the caller rolls back and either gives up (``final``)
or chooses again without the ``exclude``d levers. The propensity of a decision made after such a
fallback is the one of the reduced candidate set, the set logged with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import ServiceError
from services.offers.budgets import Book, Budgets
from services.offers.refusals import BudgetExhausted


class Refused(Exception):
    def __init__(self, error: ServiceError, exclude: frozenset[str], final: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.exclude = exclude
        self.final = final


@dataclass(frozen=True, slots=True)
class Plan:
    point: str
    book: Book


class Guards:
    def __init__(self, budgets: Budgets) -> None:
        self.budgets = budgets

    async def plan(self, point: str) -> Plan | None:
        """The guards that apply at ``point``, or None when none does (then ``admit`` is not needed)."""
        book = await self.budgets.book()
        if not book.for_point(point):
            return None
        return Plan(point, book)

    async def admit(self, session: AsyncSession, plan: Plan, row: dict[str, Any], now: datetime) -> None:
        """Check and reserve for one logged decision ``row`` inside its transaction."""
        try:
            await self.budgets.reserve(session, plan.book, plan.point, {row["customer_id"]: row["lever_key"]}, now)
        except BudgetExhausted as exc:
            budget = next(b for b in plan.book.budgets if b.key == exc.budget)
            exclude = frozenset(
                lever for lever in row["candidates"] if budget.covers(plan.point, lever) and plan.book.is_offer(lever)
            )
            raise Refused(exc, exclude, final=not budget.fallback) from None
