"""Bulk list variables coerced by a plan compiled per input type, instead of graphql-core's walk.

A `recordEvents` or `upsertCustomers` call carries up to 10,000 input objects in one variable.
graphql-core coerces each field of each of them through its generic `coerce_input_value` (type
checks, unwrapping, recursion) after a separate nesting-depth walk: about 9 ms of a 1,000-event
batch. The values it produces are simple, so a plan built once per input type produces the same
ones in a third of the time.

For an input type registered with `build_items_with` (recordEvents' and upsertCustomers' inputs),
the plan also builds each coerced item into the value the resolver receives, the service draft,
and marks the list as built (`BuiltItems`). Strawberry would otherwise convert the list item by
item, about 7 us an item of dispatch with nothing left to do (see `_hand_built_items_over`).

The plan covers only what it can reproduce exactly: a list variable of a flat input object (every
field a scalar or an enum, possibly non-null; no `@oneOf`), sent as a list of at least
``MIN_ITEMS`` objects; and a list of non-null strings or ids (``decideBatch``'s 10,000
externalIds), whose items graphql-core hands back unchanged. It gives up at the first item it
cannot coerce; the operation then goes the regular way, and graphql-core reports the errors as
always. Either way the resolvers see the same
coerced values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    Undefined,
    is_leaf_type,
    is_required_input_field,
    type_from_ast,
)
from graphql.utilities.coerce_input_value import coerce_default_value
from strawberry.types import arguments

# Below this many items the regular coercion is cheap enough.
MIN_ITEMS = 32


class _Field(NamedTuple):
    name: str
    out_name: str
    non_null: bool
    coerce: Callable[[Any], Any]
    required: bool
    default: Any  # Undefined: leave the field out


class _Plan(NamedTuple):
    fields: dict[str, _Field]  # by name
    required: tuple[str, ...]
    defaults: dict[str, Any]  # by out name, in field order: what an absent field gets
    out_type: Callable[[dict[str, Any]], Any]
    built: bool  # out_type gives the resolver's values (see build_items_with)


class BuiltItems(list[Any]):
    """A bulk list variable whose items the plan built into the values the resolver receives."""


# Keyed by the input type; None remembers a type the plan does not cover.
_PLANS: dict[GraphQLInputObjectType, _Plan | None] = {}
# Keyed by the input type's GraphQL name: what turns a coerced item into the resolver's value.
_BUILDERS: dict[str, Callable[[dict[str, Any]], Any]] = {}


def build_items_with(type_name: str, builder: Callable[[dict[str, Any]], Any]) -> None:
    """Have the plan for input type ``type_name`` give ``builder(coerced item)`` for each item.

    The builder must do what the type's Strawberry conversion does (its `from_input` hook), and
    that hook must hand back a value the builder made unchanged.
    """
    _BUILDERS[type_name] = builder
    _PLANS.clear()


def _plan(input_type: GraphQLInputObjectType) -> _Plan | None:
    if input_type in _PLANS:
        return _PLANS[input_type]
    plan: _Plan | None = None
    if not input_type.is_one_of:
        fields = []
        for name, field in input_type.fields.items():
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if not is_leaf_type(inner):
                break
            required = is_required_input_field(field)
            default = Undefined if required else coerce_default_value(field)
            fields.append(_Field(name, field.out_name or name, isinstance(field.type, GraphQLNonNull),
                                 inner.coerce_input_value, required, default))
        else:
            out_type = input_type.out_type
            builder = _BUILDERS.get(input_type.name)
            if builder is not None:
                # graphql-core's default out_type hands the dict back: the builder takes it as is.
                out_type = builder if out_type is GraphQLInputObjectType.out_type else _then(out_type, builder)
            plan = _Plan(
                {field.name: field for field in fields},
                tuple(field.name for field in fields if field.required),
                {field.out_name: field.default for field in fields if field.default is not Undefined},
                out_type,
                builder is not None,
            )
    _PLANS[input_type] = plan
    return plan


def _then(first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: second(first(value))


def _coerce_item(item: Any, plan: _Plan) -> Any:
    """What graphql-core's coerce_input_value gives for one input object, or Undefined.

    It walks the keys the item has rather than every field of the type: an item usually sends
    half of them, and the absent ones only take their defaults.
    """
    if not isinstance(item, dict):
        return Undefined
    for name in plan.required:
        value = item.get(name, Undefined)
        if value is Undefined:
            return Undefined
    coerced = plan.defaults.copy()
    fields = plan.fields
    for name, value in item.items():
        field = fields.get(name)
        if field is None:
            # A key the type lacks is an error, unless its value is Undefined (graphql-core skips those).
            if value is Undefined:
                continue
            return Undefined
        if value is None:
            if field.non_null:
                return Undefined
            coerced[field.out_name] = None
        elif value is not Undefined:
            try:
                value = field.coerce(value)
            except Exception:  # noqa: BLE001 - the regular path reports it
                return Undefined
            if value is Undefined:
                return Undefined
            coerced[field.out_name] = value
    return plan.out_type(coerced)


def _list_of_input(var_type: Any) -> tuple[GraphQLInputObjectType, bool] | None:
    """For ``[T]`` / ``[T!]`` (possibly non-null) of an input object T: (T, items non-null)."""
    if isinstance(var_type, GraphQLNonNull):
        var_type = var_type.of_type
    if not isinstance(var_type, GraphQLList):
        return None
    item = var_type.of_type
    non_null = isinstance(item, GraphQLNonNull)
    if non_null:
        item = item.of_type
    return (item, non_null) if isinstance(item, GraphQLInputObjectType) else None


def _strings(var_type: Any, value: list[Any]) -> list[str] | None:
    """A ``[String!]`` / ``[ID!]`` (possibly non-null) variable whose items are all strings, as
    graphql-core coerces it: String and ID hand a string back unchanged. None for anything else
    (another item type, a null or non-string item), which takes the regular path."""
    if isinstance(var_type, GraphQLNonNull):
        var_type = var_type.of_type
    if not isinstance(var_type, GraphQLList) or not isinstance(var_type.of_type, GraphQLNonNull):
        return None
    item = var_type.of_type.of_type
    if item is not GraphQLString and item is not GraphQLID:
        return None
    if not all(type(v) is str for v in value):
        return None
    return list(value)


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    found = None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if operation_name is None:
                if found is not None:
                    return None  # several operations and no name: graphql-core reports it
                found = definition
            elif definition.name is not None and definition.name.value == operation_name:
                return definition
    return found


def coerce_bulk_variables(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, raw: Mapping[str, Any] | None
) -> dict[str, list[Any]]:
    """The coerced values of the operation's bulk list variables the plans cover; {} for none."""
    if not raw:
        return {}
    operation = _operation(document, operation_name)
    if operation is None or not operation.variable_definitions:
        return {}
    coerced: dict[str, list[Any]] = {}
    for definition in operation.variable_definitions:
        name = definition.variable.name.value
        value = raw.get(name)
        if not isinstance(value, list) or len(value) < MIN_ITEMS:
            continue
        var_type = type_from_ast(schema, definition.type)
        strings = _strings(var_type, value)
        if strings is not None:
            coerced[name] = strings
            continue
        shape = _list_of_input(var_type)
        if shape is None:
            continue
        input_type, items_non_null = shape
        plan = _plan(input_type)
        if plan is None:
            continue
        items = []
        for item in value:
            if item is None:
                if items_non_null:
                    return {}
                items.append(None)
                continue
            done = _coerce_item(item, plan)
            if done is Undefined:
                return {}
            items.append(done)
        coerced[name] = BuiltItems(items) if plan.built else items
    return coerced


def _hand_built_items_over() -> None:
    """Strawberry's argument conversion, with a `BuiltItems` list handed over as a plain copy and
    an input object whose type has a compiled builder (`api.input_builders`) handed to it at once.

    Strawberry has no hook for a whole list argument, only `from_input` per item, which runs after
    its own dispatch on the item's type. Its conversion functions look each other up by module
    name, so wrapping the one that converts a value covers every argument and nesting level. For
    an input object, that dispatch (optional, list, scalar and enum checks before `from_input`)
    cost more than the compiled builder it ends in: converting `decide`'s input took 6.5-8.2 us,
    2.4-4.1 us without it (`recordOutcome`'s 6.4-6.7 and 2.3-2.8 us; a Python loop of 20,000).
    For such a class and a mapping value Strawberry takes that same branch
    (tests/api/test_input_builders.py converts every planned type both ways).
    """
    convert = arguments.convert_argument
    context = arguments.InputContext

    def convert_argument(
        value: object, type_: Any, scalar_registry: Any, config: Any, info: Any = None, *, path: tuple[str | int, ...] = ()
    ) -> object:
        kind = type(value)
        if kind is BuiltItems:
            return list(value)  # type: ignore[call-overload]  # a copy, as Strawberry makes of lists it does not convert
        if kind is dict and isinstance(type_, type):
            definition = getattr(type_, "__strawberry_definition__", None)
            build = getattr(definition, "from_input", None)
            if getattr(build, "planned", False) and definition.is_input:  # type: ignore[union-attr]
                return build(type_, value, context(info=info, config=config, scalar_registry=scalar_registry, path=path))  # type: ignore[misc]
        return convert(value, type_, scalar_registry, config, info, path=path)

    arguments.convert_argument = convert_argument


_hand_built_items_over()
