"""Expected failures of the offer use cases, carried as data (see ``services.errors``)."""

from __future__ import annotations

from services.errors import ServiceError
from services.offers.values import ExcludedLever, Outcome


class UnknownDecisionPoint(ServiceError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no decision point with key {key!r}")
        self.key = key


class NoEligibleLever(ServiceError):
    """Every lever was filtered out: retired, inactive, outside the requested candidates, or
    excluded for this customer by an eligibility rule or a tier cap (``excluded`` says which)."""

    def __init__(
        self, decision_point: str, candidates: tuple[str, ...], excluded: tuple[ExcludedLever, ...] = ()
    ) -> None:
        super().__init__(f"no eligible lever at {decision_point!r} among {list(candidates)}")
        self.decision_point = decision_point
        self.candidates = candidates
        self.excluded = excluded


class InvalidContext(ServiceError):
    """A feature value cannot be used: ``key`` names it (``context.cartValue``, ``attributes.age``)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class UnknownDecision(ServiceError):
    def __init__(self, decision_id: int | str) -> None:
        super().__init__(f"no decision with id {decision_id}")
        self.decision_id = decision_id


class DecisionNotActive(ServiceError):
    """The decision was made with deferred activation and never activated: nothing was shown."""

    def __init__(self, decision_id: int) -> None:
        super().__init__(f"decision {decision_id} was never activated")
        self.decision_id = decision_id


class OutcomeConflict(ServiceError):
    """A different outcome is already stored for the decision; the stored one stands."""

    def __init__(self, stored: Outcome) -> None:
        super().__init__(f"decision {stored.decision_id} already has a different outcome ({stored.id})")
        self.stored = stored
