"""Why a guard refused a decision: a spent budget or the contact policy (expected failures)."""

from __future__ import annotations

from datetime import datetime

from services.errors import ServiceError


class BudgetExhausted(ServiceError):
    """``budget`` has no room left for this offer in its current period, which ends at ``resets_at``."""

    def __init__(self, budget: str, lever: str, resets_at: datetime) -> None:
        super().__init__(f"budget {budget!r} has no room for {lever!r} until {resets_at.isoformat()}")
        self.budget = budget
        self.lever = lever
        self.resets_at = resets_at


class ContactPolicyBlocked(ServiceError):
    """The customer may not be contacted now; ``rule`` names the limit, ``next_allowed_at`` when it lifts."""

    def __init__(self, rule: str, next_allowed_at: datetime) -> None:
        super().__init__(f"contact policy {rule} blocks this customer until {next_allowed_at.isoformat()}")
        self.rule = rule
        self.next_allowed_at = next_allowed_at
