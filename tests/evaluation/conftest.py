"""Evaluation fixtures: the WINBACK decision point a generated campaign is imported into."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from services.container import Services
from services.offers.values import DecisionPointDraft, LeverDraft, Policy

LEVERS = (
    LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10),
    LeverDraft("PERSONAL_CALL", "A call from an agent", "PERSONAL_CALL", contact_cost=3),
    LeverDraft("NO_ACTION", "No contact (control)", "NO_ACTION"),
)


async def configure_winback(services: Services, **overrides: Any) -> Any:
    for lever in LEVERS:
        await services.offers.catalog.upsert_lever(lever)
    fields: dict[str, Any] = {
        "key": "WINBACK",
        "levers": tuple(lever.key for lever in LEVERS),
        "features": ("context.price_sensitive", "context.tier"),
        "policy": Policy("LIN_TS", alpha=0.5, seed=3),
        "context_examples": tuple({"price_sensitive": s, "tier": t} for s in (True, False) for t in ("LOW", "MID", "HIGH")),
    }
    fields.update(overrides)
    return await services.offers.catalog.configure(DecisionPointDraft(**fields))


@pytest.fixture
def winback(services: Services) -> Callable[..., Awaitable[Any]]:
    async def make(**overrides: Any) -> Any:
        return await configure_winback(services, **overrides)

    return make
