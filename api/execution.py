"""Execution that answers plain data fields without graphql-core's per-field machinery.

Most fields of a customer page are plain attributes of already converted Strawberry objects
(``externalId``, ``stage``, an edge's ``node``, a connection's ``edges``, an event's ``amount``...).
graphql-core still builds a resolve info, calls Strawberry's resolver wrapper, checks the result for
awaitability and walks ``complete_value`` for each of them: about 1,400 such fields per page of 50
customers.

``PlainFieldExecutionContext`` reads those fields straight off the source object. Scalars and
enums are coerced with the field's own leaf type; objects and lists of objects go straight to the
execution of their sub-selection, with graphql-core's own error handling (``handle_field_error``).

A field qualifies only when Strawberry itself considers it basic (no resolver, no field extensions:
a field with permission classes never qualifies) and it takes no arguments; an object type
qualifies only without an ``is_type_of`` check. Anything unusual (a null for a non-null field, a
value the leaf type refuses, a missing attribute, directives on the field, deferred or streamed
delivery) goes through the regular path, which reports it exactly as before. Resolver fields,
abstract types and root fields always take the regular path, and the whole fast path is off while a
schema extension has a ``resolve`` hook, since such a hook must see every field.
"""

from __future__ import annotations

from collections.abc import Awaitable
from enum import Enum
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    is_leaf_type,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from api.bulk_variables import coerce_bulk_variables


class Kind(Enum):
    LEAF = 1
    OBJECT = 2
    OBJECT_LIST = 3


class PlainField(NamedTuple):
    attribute: str
    kind: Kind
    field_type: GraphQLOutputType  # as declared, with its non-null wrapper
    inner: Any  # the leaf type, the object type, or the list's object type
    non_null: bool
    item_type: GraphQLOutputType | None  # a list's item type, with its non-null wrapper


# Keyed by the GraphQL object type; built once per type and shared by every request of the process.
_PLANS: dict[GraphQLObjectType, dict[str, PlainField]] = {}
# The sub-selections of parsed documents, shared by the requests of the process: keyed by the object
# type and the ids of the field nodes, which the value keeps alive so that no other node takes
# their ids. Oldest out first past the bound.
_SUBFIELDS: dict[tuple[Any, ...], tuple[tuple[Any, ...], CollectedFields]] = {}
SUBFIELDS_MAX = 4096
_MISSING = object()
_SLOW = object()


def _late(*_: Any) -> Any:
    raise RuntimeError("async work submitted to an executor after its response was built")


# What ``build_response`` leaves in place of graphql-core's helpers: late use fails loudly.
_RELEASED = GraphQLResolveInfoHelpers(gather=_late, track=_late)


def _unwrap(graphql_type: GraphQLOutputType) -> tuple[Any, bool]:
    if isinstance(graphql_type, GraphQLNonNull):
        return graphql_type.of_type, True
    return graphql_type, False


def _plain_object(graphql_type: Any) -> bool:
    return isinstance(graphql_type, GraphQLObjectType) and graphql_type.is_type_of is None


def _plain_field(field: GraphQLField) -> PlainField | None:
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field or field.args:
        return None
    if getattr(definition, "default_resolver", getattr) is not getattr:
        return None
    inner, non_null = _unwrap(field.type)
    name = definition.python_name
    if is_leaf_type(inner):
        return PlainField(name, Kind.LEAF, field.type, inner, non_null, None)
    if _plain_object(inner):
        return PlainField(name, Kind.OBJECT, field.type, inner, non_null, None)
    if isinstance(inner, GraphQLList):
        item, _ = _unwrap(inner.of_type)
        if _plain_object(item):
            return PlainField(name, Kind.OBJECT_LIST, field.type, item, non_null, inner.of_type)
    return None


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


class PlainFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    @classmethod
    def build(  # type: ignore[override]
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """graphql-core's build, with bulk list variables coerced by compiled plans (api.bulk_variables).

        graphql-core coerces the operation's variables with an empty list standing in for each bulk
        one, then gets the planned values; anything the plans do not cover, or any error, takes the
        regular path with the real values.
        """
        bulk = coerce_bulk_variables(schema, document, operation_name, raw_variable_values)
        if bulk and raw_variable_values is not None:
            stand_ins = {**raw_variable_values, **{name: [] for name in bulk}}
            executor = super().build(schema, document, root_value, context_value, stand_ins, operation_name, *args, **kwargs)
            if not isinstance(executor, list):
                values = executor.variable_values
                values.coerced.update(bulk)
                for name in bulk:
                    values.sources[name] = values.sources[name]._replace(value=raw_variable_values[name])
                return executor
        return super().build(schema, document, root_value, context_value, raw_variable_values, operation_name, *args, **kwargs)

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> CollectedFields:
        """graphql-core's, remembered across requests where the document alone decides the result.

        graphql-core collects an object's sub-selection once per request; for a ``decide``
        answered in a union (``... on Decision { id propensity lever { key } }``) that was 15 us of
        the request, the same every time (2 us with this cache; py-spy under wrk load). What is
        collected depends on the request's variables only through directives (``@skip``,
        ``@include``), and on deferred delivery: a document with any directive at all, or a field
        group with a defer usage or fragment variables, is collected per request as before.
        """
        operation = self.operation
        location = operation.loc
        if location is None or "@" in location.source.body:
            return super().collect_subfields(return_type, field_details_list)
        nodes = []
        for details in field_details_list:
            if details.defer_usage is not None or details.fragment_variable_values is not None:
                return super().collect_subfields(return_type, field_details_list)
            nodes.append(details.node)
        key = (return_type, *map(id, nodes))
        known = _SUBFIELDS.get(key)
        if known is not None:
            return known[1]
        collected = super().collect_subfields(return_type, field_details_list)
        if not collected.new_defer_usages and not collected.forbidden_directive_instances:
            if len(_SUBFIELDS) >= SUBFIELDS_MAX:
                del _SUBFIELDS[next(iter(_SUBFIELDS))]
            _SUBFIELDS[key] = (tuple(nodes), collected)
        return collected

    def build_response(self, data: dict[str, Any] | None) -> Any:
        """graphql-core's response; then, once nothing is left to deliver, the executor lets go of
        its own bound methods.

        graphql-core keeps two of them (``async_helpers``) on the executor, a reference cycle that
        only the cyclic collector frees: every request left its executor, context, loaders and
        trace behind as garbage (20 to 50 objects), which set off a young collection every
        20,000 of them, 10 to 17 ms each under decide load.
        """
        response = super().build_response(data)
        if isinstance(response, ExecutionResult) and not self.background_futures and not self.pending_incremental_futures:
            self.async_helpers = _RELEASED
        return response

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        manager = self.middleware_manager
        fast = position_context is None and (manager is None or not manager.middlewares)
        plan = plain_fields(parent_type) if fast else {}
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        pending: list[str] = []
        try:
            for response_name, details in grouped_field_set.items():
                node = details[0].node
                plain = plan.get(node.name.value)
                result: Any = _SLOW
                if plain is not None and not node.arguments and not node.directives:
                    value = getattr(source_value, plain.attribute, _MISSING)
                    if value is None and not plain.non_null:
                        result = None
                    elif value is not None and value is not _MISSING and not isinstance(value, Exception):
                        result = self._plain_value(plain, details, path, response_name, parent_type, value)
                if result is _SLOW:
                    field_path = Path(path, response_name, parent_type.name)
                    result = self.execute_field(parent_type, source_value, details, field_path, position_context)
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
        return _await_fields(results, pending)

    def _plain_value(
        self,
        plain: PlainField,
        details: FieldDetailsList,
        path: Path | None,
        response_name: str,
        parent_type: GraphQLObjectType,
        value: Any,
    ) -> Any:
        """The completed value of a plain field, or ``_SLOW`` to leave it to the regular path."""
        if plain.kind is Kind.LEAF:
            try:
                coerced = plain.inner.coerce_output_value(value)
            except Exception:  # noqa: BLE001 - the regular path reports it
                return _SLOW
            return _SLOW if coerced is Undefined or coerced is None else coerced
        field_path = Path(path, response_name, parent_type.name)
        if plain.kind is Kind.OBJECT:
            return self._object_value(plain.inner, plain.field_type, details, field_path, value)
        if not isinstance(value, (list, tuple)) or any(item is None or self.is_awaitable(item) for item in value):
            return _SLOW
        return self._object_list(plain, details, field_path, value)

    def _object_value(
        self, object_type: GraphQLObjectType, return_type: GraphQLOutputType, details: FieldDetailsList, path: Path, value: Any
    ) -> Any:
        grouped, defer_usages, _ = self.collect_subfields(object_type, details)
        if defer_usages:
            return _SLOW
        try:
            completed = self.execute_fields(object_type, value, path, grouped, None)
        except Exception as error:
            self.handle_field_error(error, return_type, details, path)
            return None
        if self.is_awaitable(completed):
            return self._guarded(completed, return_type, details, path)
        return completed

    def _object_list(self, plain: PlainField, details: FieldDetailsList, path: Path, items: Any) -> Any:
        if self.get_stream_usage(details, path) is not None:
            return _SLOW
        item_type = plain.item_type
        assert item_type is not None
        completed: list[Any] = []
        pending: list[int] = []
        try:
            try:
                for index, item in enumerate(items):
                    value = self._object_value(plain.inner, item_type, details, path.add_key(index, None), item)
                    if value is _SLOW:
                        raise _Fallback
                    if self.is_awaitable(value):
                        pending.append(index)
                    completed.append(value)
            except Exception:
                if pending:
                    self.settle_in_background([completed[i] for i in pending])
                raise
        except _Fallback:
            return _SLOW
        except Exception as error:
            # A non-null item failed: the error belongs to the list field, as in complete_value.
            self.handle_field_error(error, plain.field_type, details, path)
            return None
        if not pending:
            return completed
        return self._guarded(_await_items(completed, pending), plain.field_type, details, path)

    async def _guarded(
        self, awaitable: Awaitable[Any], return_type: GraphQLOutputType, details: FieldDetailsList, path: Path
    ) -> Any:
        try:
            return await awaitable
        except Exception as error:
            self.handle_field_error(error, return_type, details, path)
            return None


class _Fallback(Exception):
    """An item of a list needs the regular path (deferred delivery below it)."""


async def _await_fields(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
    else:
        values = await gather_with_cancel(*(results[name] for name in pending))
        results.update(zip(pending, values, strict=True))
    return results


async def _await_items(completed: list[Any], pending: list[int]) -> list[Any]:
    if len(pending) == 1:
        completed[pending[0]] = await completed[pending[0]]
    else:
        values = await gather_with_cancel(*(completed[i] for i in pending))
        for index, value in zip(pending, values, strict=True):
            completed[index] = value
    return completed
