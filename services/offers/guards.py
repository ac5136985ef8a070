"""The guards a decision passes in the transaction that logs it: contact policy, then budgets.

``Guards.plan`` says which guards apply at a decision point, from per-process caches: where none
is configured it costs no statement and ``admit`` is skipped. ``Guards.admit`` runs after the
decision row is inserted and before commit; a refusal raises ``Refused``, the caller rolls back
and either gives up (``final``) or chooses again without the ``exclude``d levers. The propensity
of a decision made after such a fallback is the one of the reduced candidate set, the set logged
with it.

* Contact policy: levers whose channel is blocked for the customer are excluded; when no offer
  lever is left, the answer is ``ContactPolicyBlocked`` with the rule that lifts first. NO_ACTION
  is not a contact, but it is not served to a blocked customer either: the caller is told why.
* Budgets: a spent budget is ``BudgetExhausted``, or, for a budget with ``fallback``, the levers it
  covers are excluded and the choice is made again (NO_ACTION takes no budget).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import ServiceError
from services.offers.budgets import Book, Budgets
from services.offers.contact_policy import ContactPolicies, Rules
from services.offers.refusals import BudgetExhausted, ContactPolicyBlocked


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
    rules: Rules | None


class Guards:
    def __init__(self, budgets: Budgets, contacts: ContactPolicies) -> None:
        self.budgets = budgets
        self.contacts = contacts

    async def plan(self, point: str) -> Plan | None:
        """The guards that apply at ``point``, or None when none does (then ``admit`` is not needed)."""
        book = await self.budgets.book()
        rules = await self.contacts.rules()
        contact = rules if rules.applies_to(point) else None
        if not book.for_point(point) and contact is None:
            return None
        return Plan(point, book, contact)

    async def admit(self, session: AsyncSession, plan: Plan, row: dict[str, Any], decision_id: int, now: datetime) -> None:
        """Check the contact policy and reserve budgets for one logged decision ``row`` in its transaction."""
        if plan.rules is not None:
            offers = [lever for lever in row["candidates"] if plan.book.is_offer(lever)]
            blocked = await self.contacts.blocked(
                session, plan.rules, plan.point, row["customer_id"], offers, now, plan.book.is_offer, skip=decision_id
            )
            if blocked:
                if all(lever in blocked for lever in offers):
                    rule, until = min(blocked.values(), key=lambda found: found[1])
                    raise Refused(ContactPolicyBlocked(rule, until), frozenset(blocked), final=True)
                if row["lever_key"] in blocked:
                    rule, until = blocked[row["lever_key"]]
                    raise Refused(ContactPolicyBlocked(rule, until), frozenset(blocked), final=False)
        try:
            await self.budgets.reserve(session, plan.book, plan.point, {row["customer_id"]: row["lever_key"]}, now)
        except BudgetExhausted as exc:
            budget = next(b for b in plan.book.budgets if b.key == exc.budget)
            exclude = frozenset(
                lever for lever in row["candidates"] if budget.covers(plan.point, lever) and plan.book.is_offer(lever)
            )
            raise Refused(exc, exclude, final=not budget.fallback) from None
