"""Validation that is paid once per distinct query text, not once per request.

Strawberry's own ValidationCache keys on the rule tuple too, so any per-request rule (such as a
rebuilt depth limiter) makes every request a miss. Here the rules are fixed when the schema is
built, and the cache is keyed by the query text alone.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from threading import Lock

from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

DEFAULT_SIZE = 1024


class ValidationResults:
    """A bounded LRU of validation outcomes, shared by every request of one schema."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self.runs = 0
        self._results: OrderedDict[str, list[GraphQLError]] = OrderedDict()
        self._lock = Lock()

    def get(self, query: str) -> list[GraphQLError] | None:
        with self._lock:
            errors = self._results.get(query)
            if errors is not None:
                self._results.move_to_end(query)
            return errors

    def put(self, query: str, errors: list[GraphQLError]) -> None:
        with self._lock:
            self.runs += 1
            self._results[query] = errors
            if len(self._results) > self.size:
                self._results.popitem(last=False)


class CachedValidation(SchemaExtension):
    def __init__(self, results: ValidationResults, extra_rules: tuple[type[ASTValidationRule], ...] = ()) -> None:
        self.results = results
        self.extra_rules = extra_rules

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query or ""
        errors = self.results.get(query)
        if errors is None:
            assert context.graphql_document is not None
            errors = validate_document(
                context.schema._schema,
                context.graphql_document,
                (*context.validation_rules, *self.extra_rules),
            )
            self.results.put(query, errors)
        context.pre_execution_errors = errors
        yield
