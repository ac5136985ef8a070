"""Budget and contact-policy types, and the refusals ``decide`` can answer with."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from api.types.results import InvalidInput
from services.offers import budgets, refusals


@strawberry.enum(description="DAY from midnight UTC, WEEK from Monday, MONTH from the 1st, DAYS: `days` long from 1970-01-01.")
class BudgetPeriod(Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    DAYS = "DAYS"


@strawberry.type(description="A spend cap per period on a lever, a decision point or a lever at a decision point, with its current period's use.")
class Budget:
    key: str
    lever_key: str | None
    decision_point_key: str | None
    period: BudgetPeriod
    days: int | None
    max_count: int | None = strawberry.field(description="Offers per period (count budget).")
    max_cost: float | None = strawberry.field(description="Committed cost per period (money budget): discount and cost shares of the customer's average order value, unit cost and contact cost.")
    fallback: bool = strawberry.field(description="When spent, decide falls back to the next best lever instead of answering BudgetExhausted.")
    period_start: datetime
    resets_at: datetime
    used: float
    remaining: float

    @classmethod
    def from_domain(cls, state: budgets.BudgetState) -> Budget:
        b = state.budget
        return cls(
            key=b.key, lever_key=b.lever, decision_point_key=b.decision_point, period=BudgetPeriod(b.period),
            days=b.days if b.period == "DAYS" else None, max_count=b.max_count, max_cost=b.max_cost,
            fallback=b.fallback, period_start=state.period_start, resets_at=state.resets_at, used=state.used,
            remaining=state.remaining,
        )


@strawberry.input(description="Create or replace a budget by key. Give leverKey, decisionPointKey or both, and exactly one of maxCount and maxCost.")
class BudgetInput:
    key: str
    period: BudgetPeriod
    lever_key: str | None = None
    decision_point_key: str | None = None
    days: int | None = strawberry.field(default=None, description="The period length with period DAYS.")
    max_count: int | None = None
    max_cost: float | None = None
    fallback: bool = False

    def to_draft(self) -> budgets.BudgetDraft:
        return budgets.BudgetDraft(
            key=self.key, period=self.period.value, lever=self.lever_key, decision_point=self.decision_point_key,
            days=self.days, max_count=self.max_count, max_cost=self.max_cost, fallback=self.fallback,
        )


@strawberry.type(description="A budget has no room left for the offer in this period; nothing was logged.")
class BudgetExhausted:
    message: str
    budget: str
    lever_key: str
    resets_at: datetime

    @classmethod
    def from_error(cls, error: refusals.BudgetExhausted) -> BudgetExhausted:
        return cls(message=error.message, budget=error.budget, lever_key=error.lever, resets_at=error.resets_at)


@strawberry.type(description="The contact policy forbids contacting this customer now; nothing was logged.")
class ContactPolicyBlocked:
    message: str
    rule: str
    next_allowed_at: datetime

    @classmethod
    def from_error(cls, error: refusals.ContactPolicyBlocked) -> ContactPolicyBlocked:
        return cls(message=error.message, rule=error.rule, next_allowed_at=error.next_allowed_at)


ConfigureBudgetResult = Annotated[Budget | InvalidInput, strawberry.union("ConfigureBudgetResult")]
