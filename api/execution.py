"""Execution that answers plain data fields without graphql-core's per-field machinery.

Most fields of a customer page are plain attributes of an already converted Strawberry object
(``externalId``, ``stage``, an event's ``amount``...). graphql-core still builds a resolve info,
calls Strawberry's resolver wrapper, checks the result for awaitability and walks
``complete_value`` for each of them: about 1,000 such fields per page of 50 customers.

``PlainFieldExecutionContext`` reads those fields straight off the source object and coerces the
value with the field's own leaf type. A field qualifies only when Strawberry itself considers it
basic (no resolver, no field extensions: a field with permission classes never qualifies), it takes
no arguments and returns a scalar or an enum. Anything unusual (a null for a non-null field, a value
the leaf type refuses, a missing attribute) goes back through the regular path, which reports it
exactly as before. Resolver fields, object fields and root fields always take the regular path.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    is_leaf_type,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField


class PlainField(NamedTuple):
    attribute: str
    leaf: GraphQLLeafType
    non_null: bool


# Keyed by the GraphQL object type; built once per type and shared by every request of the process.
_PLANS: dict[GraphQLObjectType, dict[str, PlainField]] = {}


def _plain_field(field: GraphQLField) -> PlainField | None:
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field or field.args:
        return None
    if getattr(definition, "default_resolver", getattr) is not getattr:
        return None
    return_type, non_null = field.type, False
    if isinstance(return_type, GraphQLNonNull):
        return_type, non_null = return_type.of_type, True
    if not is_leaf_type(return_type):
        return None
    return PlainField(definition.python_name, return_type, non_null)  # type: ignore[arg-type]


def plain_fields(parent_type: GraphQLObjectType) -> dict[str, PlainField]:
    """The fields of ``parent_type`` that can be read straight off the source object."""
    plan = _PLANS.get(parent_type)
    if plan is None:
        plan = {}
        for name, field in parent_type.fields.items():
            if (plain := _plain_field(field)) is not None:
                plan[name] = plain
        _PLANS[parent_type] = plan
    return plan


_MISSING = object()


class PlainFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        manager = self.middleware_manager
        # A schema extension with a ``resolve`` hook must see every field: then nothing is skipped.
        plan = plain_fields(parent_type) if manager is None or not manager.middlewares else {}
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        pending: list[str] = []
        try:
            for response_name, details in grouped_field_set.items():
                node = details[0].node
                plain = plan.get(node.name.value)
                if plain is not None and not node.arguments:
                    value = getattr(source_value, plain.attribute, _MISSING)
                    if value is None and not plain.non_null:
                        results[response_name] = None
                        continue
                    if value is not None and value is not _MISSING:
                        try:
                            coerced = plain.leaf.coerce_output_value(value)
                        except Exception:  # noqa: BLE001 - the regular path below reports it
                            coerced = Undefined
                        if coerced is not Undefined and coerced is not None:
                            results[response_name] = coerced
                            continue
                result = self.execute_field(
                    parent_type, source_value, details, Path(path, response_name, parent_type.name), position_context
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        pending.append(response_name)
        except Exception:
            if pending:
                # Settle what other fields already started: they may fail too.
                self.settle_in_background([results[name] for name in pending])
            raise
        if not pending:
            return results
        return self._await_pending(results, pending)

    @staticmethod
    async def _await_pending(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
        from graphql.pyutils import gather_with_cancel

        if len(pending) == 1:
            results[pending[0]] = await results[pending[0]]
        else:
            values = await gather_with_cancel(*(results[name] for name in pending))
            results.update(zip(pending, values, strict=True))
        return results
