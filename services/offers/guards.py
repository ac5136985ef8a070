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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import budgets as budget_repo
from db.repositories import offers as offer_repo
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
            refused = await self._contacts(session, plan, [row], [decision_id], now)
            if refused:
                raise refused[row["customer_id"]]
        try:
            await self.budgets.reserve(session, plan.book, plan.point, {row["customer_id"]: row["lever_key"]}, now)
        except BudgetExhausted as exc:
            raise self._spent(plan, row, exc) from None

    async def admit_many(
        self, session: AsyncSession, plan: Plan, rows: list[dict[str, Any]], decision_ids: list[int], now: datetime
    ) -> dict[int, Refused]:
        """``admit`` for a batch of logged decisions, in row order (budgets go to the first rows);
        returns the refused ones by customer id instead of raising."""
        refused = await self._contacts(session, plan, rows, decision_ids, now) if plan.rules is not None else {}
        left = [row for row in rows if row["customer_id"] not in refused]
        spent = await self.budgets.reserve_many(
            session, plan.book, plan.point, [(row["customer_id"], row["lever_key"]) for row in left], now
        )
        for row in left:
            if row["customer_id"] in spent:
                refused[row["customer_id"]] = self._spent(plan, row, spent[row["customer_id"]])
        return refused

    async def _contacts(
        self, session: AsyncSession, plan: Plan, rows: list[dict[str, Any]], decision_ids: list[int], now: datetime
    ) -> dict[int, Refused]:
        assert plan.rules is not None
        offers = {row["customer_id"]: [lever for lever in row["candidates"] if plan.book.is_offer(lever)] for row in rows}
        blocked = await self.contacts.blocked(session, plan.rules, plan.point, offers, now, plan.book.is_offer, decision_ids)
        refused: dict[int, Refused] = {}
        for row in rows:
            found = blocked.get(row["customer_id"])
            if not found:
                continue
            if all(lever in found for lever in offers[row["customer_id"]]):
                rule, until = min(found.values(), key=lambda item: item[1])
                refused[row["customer_id"]] = Refused(ContactPolicyBlocked(rule, until), frozenset(found), final=True)
            elif row["lever_key"] in found:
                rule, until = found[row["lever_key"]]
                refused[row["customer_id"]] = Refused(ContactPolicyBlocked(rule, until), frozenset(found), final=False)
        return refused

    def _spent(self, plan: Plan, row: dict[str, Any], exc: BudgetExhausted) -> Refused:
        budget = next(b for b in plan.book.budgets if b.key == exc.budget)
        exclude = frozenset(
            lever for lever in row["candidates"] if budget.covers(plan.point, lever) and plan.book.is_offer(lever)
        )
        return Refused(exc, exclude, final=not budget.fallback)


Rechoose = Callable[[list[tuple[int, list[str]]]], list[dict[str, Any]]]


async def admit_batch(
    guards: Guards,
    session: AsyncSession,
    plan: Plan,
    rows: list[dict[str, Any]],
    written: dict[int, int],
    now: datetime,
    rechoose: Rechoose,
) -> dict[int, ServiceError]:
    """Admit a batch of inserted decisions (``written``: customer id -> decision id, updated in
    place); refused ones are deleted in the same transaction and, where a fallback is allowed,
    chosen again (``rechoose([(customer id, candidates left)])`` returns new rows) and admitted
    in turn. Returns the customers finally refused, with why."""
    errors: dict[int, ServiceError] = {}
    excluded: dict[int, set[str]] = {}
    pending = [row for row in rows if row["customer_id"] in written]
    while pending:
        refused = await guards.admit_many(session, plan, pending, [written[r["customer_id"]] for r in pending], now)
        if not refused:
            break
        await budget_repo.delete_decisions(session, [written.pop(customer_id) for customer_id in refused])
        by_customer = {row["customer_id"]: row for row in pending}
        retry = []
        for customer_id, why in refused.items():
            excluded.setdefault(customer_id, set()).update(why.exclude)
            left = [lever for lever in by_customer[customer_id]["candidates"] if lever not in excluded[customer_id]]
            if why.final or not left:
                errors[customer_id] = why.error
            else:
                retry.append((customer_id, left))
        if not retry:
            break
        pending = rechoose(retry)
        chosen = {row["customer_id"] for row in pending}
        for customer_id, _ in retry:  # no lever left after the rules: the refusal stands
            if customer_id not in chosen:
                errors[customer_id] = refused[customer_id].error
        for row in pending:
            row["explanation"]["guarded"] = sorted(excluded[row["customer_id"]])
        written.update(await offer_repo.insert_decisions(session, pending))
    return errors
