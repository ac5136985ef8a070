"""Mutations of the guards around deciding: budgets, contact policies, campaigns (merged into the root Mutation)."""

from __future__ import annotations

import strawberry

from api.permissions import ADMIN_ONLY, FOR_CAMPAIGNS
from api.context import Info
from api.types.campaigns import Campaign, CampaignInput, CreateCampaignResult
from api.types.offers import map_error
from api.types.budgets import Budget, BudgetInput, ConfigureBudgetResult
from api.types.contacts import ConfigureContactPolicyResult, ContactPolicy, ContactPolicyInput
from api.types.results import InvalidInput as InvalidInputType
from services.errors import InvalidInput, ServiceError


@strawberry.type
class GuardMutation:
    @strawberry.mutation(permission_classes=[ADMIN_ONLY], description="Create or replace a spend cap (budget) by key.")
    async def configure_budget(self, info: Info, input: BudgetInput) -> ConfigureBudgetResult:
        try:
            return Budget.from_domain(await info.context.services.offers.budgets.configure(input.to_draft()))
        except InvalidInput as exc:
            return InvalidInputType.from_error(exc)

    @strawberry.mutation(permission_classes=[ADMIN_ONLY], description="Replace the global contact policy, or a decision point's when decisionPoint is given.")
    async def configure_contact_policy(self, info: Info, input: ContactPolicyInput) -> ConfigureContactPolicyResult:
        try:
            return ContactPolicy.from_domain(await info.context.services.offers.contacts.configure(input.to_domain()))
        except InvalidInput as exc:
            return InvalidInputType.from_error(exc)

    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="Rank a segment by expected value and decide for its best customers under a new campaign.")
    async def create_campaign(self, info: Info, input: CampaignInput) -> CreateCampaignResult:
        try:
            return Campaign.from_domain(await info.context.services.offers.campaigns.create(input.to_draft()))
        except ServiceError as exc:
            return map_error(exc)
