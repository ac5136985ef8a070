"""Offer fixtures: a lever catalogue and a configured decision point on a fresh database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from services.container import Services
from services.offers.values import DecisionPointDraft, LeverDraft, Policy

LEVERS = (
    LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10),
    LeverDraft("FREE_SHIPPING", "Free shipping", "FREE_SHIPPING", unit_cost=4),
    LeverDraft("PERSONAL_CALL", "A call from an agent", "PERSONAL_CALL", contact_cost=3),
    LeverDraft("NO_ACTION", "Nothing", "NO_ACTION"),
)


@pytest.fixture
def configure(services: Services) -> Callable[..., Awaitable[Any]]:
    """Create the lever catalogue and a decision point (overrides go to DecisionPointDraft)."""

    async def make(key: str = "RETENTION", **overrides: Any) -> Any:
        for lever in LEVERS:
            await services.offers.catalog.upsert_lever(lever)
        fields: dict[str, Any] = {
            "key": key,
            "levers": tuple(lever.key for lever in LEVERS),
            "features": ("attributes.price_sensitive", "valueTier", "context.channel"),
            "policy": Policy("LIN_TS", alpha=0.5, seed=3),
            "context_examples": ({"channel": "web"}, {"channel": "app"}),
        }
        fields.update(overrides)
        return await services.offers.catalog.configure(DecisionPointDraft(**fields))

    return make
