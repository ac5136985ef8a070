"""The Strawberry schema, built once per process with its caches."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxTokensLimiter, ParserCache
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api import input_builders
from api.evaluation_mutations import EvaluationMutation
from api.evaluation_queries import EvaluationQuery
from api.guard_mutations import GuardMutation
from api.guard_queries import GuardQuery
from api.execution import PlainFieldExecutionContext
from api.lifecycle_mutations import LifecycleMutation
from api.lifecycle_queries import LifecycleQuery
from api.limits import QueryLimits
from api.masking import MaskUnexpectedErrors
from api.mutations import Mutation
from api.offer_mutations import OfferMutation
from api.offer_queries import OfferQuery
from api.policy_arms import PolicyArmMutation, PolicyArmQuery
from api.queries import Query
from api.report_queries import ReportQuery
from api.request_log import OperationTrace
from api.scalars import SCALAR_OVERRIDES
from api.subscriptions import Subscription
from api.validation import CachedValidation, ValidationResults


DEFAULT_LIMITS = QueryLimits()


class CicloSchema(strawberry.Schema):
    validation_results: ValidationResults

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Unexpected errors are logged, with the request id, by MaskUnexpectedErrors; caller
        # mistakes (validation, bad variables) are answered, not logged as server faults.
        return None


def build_schema(
    *, validation_cache_size: int = 1024, limits: QueryLimits | None = DEFAULT_LIMITS, introspection: bool = True
) -> CicloSchema:
    """The schema with its parse and validation caches, and the query limits (None: no limits).

    Without introspection (production), graphql-core's rule refusing ``__schema``/``__type`` joins
    the cached rules: fixed when the schema is built, so the validation cache still holds.
    """
    results = ValidationResults(validation_cache_size)
    rules = limits.rules() if limits else ()
    if not introspection:
        rules = (*rules, NoSchemaIntrospectionCustomRule)
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=validation_cache_size),
        lambda: CachedValidation(results, rules),
        MaskUnexpectedErrors,
        OperationTrace,
    ]
    if limits:
        extensions.insert(0, lambda: MaxTokensLimiter(max_token_count=limits.max_tokens))
    schema = CicloSchema(
        query=merge_types("Query", (Query, LifecycleQuery, OfferQuery, PolicyArmQuery, GuardQuery, ReportQuery, EvaluationQuery)),
        mutation=merge_types("Mutation", (Mutation, LifecycleMutation, OfferMutation, PolicyArmMutation, GuardMutation, EvaluationMutation)),
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=PlainFieldExecutionContext,
        scalar_overrides=SCALAR_OVERRIDES,
    )
    schema.validation_results = results
    input_builders.install(schema)
    return schema


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
