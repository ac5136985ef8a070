"""Queries of the guards around deciding: budgets (merged into the root Query)."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.types.budgets import Budget


@strawberry.type
class GuardQuery:
    @strawberry.field(description="Every budget with what its current period has used and has left.")
    async def budgets(self, info: Info) -> list[Budget]:
        return [Budget.from_domain(s) for s in await info.context.services.offers.budgets.states()]
