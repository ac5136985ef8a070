"""Expected failures as schema types: result unions and per-item bulk errors."""

from __future__ import annotations

import strawberry

from services import domain, errors


@strawberry.type(description="One rejected item of a bulk call. `index` is null when the whole call was refused.")
class ItemError:
    index: int | None
    field: str
    message: str

    @classmethod
    def from_domain(cls, error: domain.ItemError) -> ItemError:
        return cls(index=error.index, field=error.field, message=error.message)


@strawberry.type(description="A field of the input broke a rule; nothing was written.")
class InvalidInput:
    field: str
    message: str

    @classmethod
    def from_error(cls, error: errors.InvalidInput) -> InvalidInput:
        return cls(field=error.field, message=error.reason)


@strawberry.type
class CustomerNotFound:
    message: str
    id: strawberry.ID | None
    external_id: str | None

    @classmethod
    def from_error(cls, error: errors.CustomerNotFound) -> CustomerNotFound:
        ref = strawberry.ID(str(error.customer_id)) if error.customer_id is not None else None
        return cls(message=error.message, id=ref, external_id=error.external_id)


@strawberry.type
class SegmentNotFound:
    message: str
    key: str

    @classmethod
    def from_error(cls, error: errors.SegmentNotFound) -> SegmentNotFound:
        return cls(message=error.message, key=error.key)


@strawberry.type(description="Valid items were written; each rejected one is in `errors` by index.")
class UpsertCustomersPayload:
    accepted: int
    created: int
    updated: int
    errors: list[ItemError]

    @classmethod
    def from_domain(cls, result: domain.BulkResult) -> UpsertCustomersPayload:
        return cls(
            accepted=result.accepted,
            created=result.created,
            updated=result.updated,
            errors=[ItemError.from_domain(e) for e in result.errors],
        )


@strawberry.type(description="Valid events were stored; replays of a stored idempotency key count as duplicates.")
class RecordEventsPayload:
    accepted: int
    duplicates: int
    errors: list[ItemError]

    @classmethod
    def from_domain(cls, result: domain.BulkResult) -> RecordEventsPayload:
        return cls(
            accepted=result.accepted,
            duplicates=result.duplicates,
            errors=[ItemError.from_domain(e) for e in result.errors],
        )


@strawberry.type
class SegmentMembershipPayload:
    changed: int = strawberry.field(description="Members actually added or removed.")
    errors: list[ItemError]

    @classmethod
    def from_domain(cls, result: domain.BulkResult) -> SegmentMembershipPayload:
        return cls(changed=result.accepted, errors=[ItemError.from_domain(e) for e in result.errors])


def bulk_refusal(error: errors.InvalidInput) -> domain.BulkResult:
    """A whole bulk call refused (too many items): reported as one error without an index."""
    return domain.BulkResult(errors=(domain.ItemError(None, error.field, error.reason),))
