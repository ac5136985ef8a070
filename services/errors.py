"""Expected failures of the use cases, carried as data so the API can map them onto the schema."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: every expected failure of a use case."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ServiceError):
    """An input field broke a rule; ``field`` names it (``attributes.age``, ``input``...)."""

    def __init__(self, field: str, reason: str) -> None:
        # graphql-core shows ``message`` when this escapes a query resolver: it names the field.
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class CustomerNotFound(ServiceError):
    def __init__(self, *, customer_id: int | None = None, external_id: str | None = None) -> None:
        ref = f"id {customer_id}" if customer_id is not None else f"externalId {external_id!r}"
        super().__init__(f"no customer with {ref}")
        self.customer_id = customer_id
        self.external_id = external_id


class SegmentNotFound(ServiceError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no segment with key {key!r}")
        self.key = key
