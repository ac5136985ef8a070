"""Mutations of the guards around deciding: budgets and contact policies (merged into the root Mutation)."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.types.budgets import Budget, BudgetInput, ConfigureBudgetResult
from api.types.contacts import ConfigureContactPolicyResult, ContactPolicy, ContactPolicyInput
from api.types.results import InvalidInput as InvalidInputType
from services.errors import InvalidInput


@strawberry.type
class GuardMutation:
    @strawberry.mutation(description="Create or replace a spend cap (budget) by key.")
    async def configure_budget(self, info: Info, input: BudgetInput) -> ConfigureBudgetResult:
        try:
            return Budget.from_domain(await info.context.services.offers.budgets.configure(input.to_draft()))
        except InvalidInput as exc:
            return InvalidInputType.from_error(exc)

    @strawberry.mutation(description="Replace the global contact policy, or a decision point's when decisionPoint is given.")
    async def configure_contact_policy(self, info: Info, input: ContactPolicyInput) -> ConfigureContactPolicyResult:
        try:
            return ContactPolicy.from_domain(await info.context.services.offers.contacts.configure(input.to_domain()))
        except InvalidInput as exc:
            return InvalidInputType.from_error(exc)
