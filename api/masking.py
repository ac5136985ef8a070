"""Unexpected failures are logged with the request id and reach the client as a bare notice."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from services.errors import ServiceError

log = logging.getLogger("ciclo.errors")


def is_unexpected(error: GraphQLError) -> bool:
    """Caller mistakes (validation, bad arguments, service rule breaks) are the caller's to see;
    any other exception from our code is not."""
    original = error.original_error
    return original is not None and not isinstance(original, (GraphQLError, ServiceError))


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = getattr(self.execution_context.context, "request_id", "-")
        log.error(
            "unexpected error in %s (request %s)",
            ".".join(str(p) for p in error.path or ()),
            request_id,
            exc_info=error.original_error,
        )
        masked = super().anonymise_error(error)
        masked.message = f"Unexpected error; reference request id {request_id}."
        masked.extensions = {"requestId": request_id}
        return masked
