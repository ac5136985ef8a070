"""Input objects built by plans compiled once per type, instead of Strawberry's generic conversion.

For every argument of every request, Strawberry's ``convert_argument`` walks the input type again:
it resolves each field's annotation, asks whether it is generic, a scalar, an enum, a list..., and
converts the field's GraphQL name, a dozen reflective calls per field. On ``decide`` that walk was
the largest single cost of executing the operation, larger than the resolver.

Strawberry lets an input type build its own value (``StrawberryObjectDefinition.from_input``, called
with the class and the whole input value keyed by GraphQL names). ``install`` gives every input type
of the schema a builder whose per-field steps were decided once, when the schema was built:

* a scalar or an enum is kept as graphql-core coerced it, a list of them is copied;
* a nested input object goes to its own builder;
* a field the input omits takes its declared default (or None when it has none).

These are the steps ``convert_argument`` takes; a type with anything else in it (``Maybe``, relay
``GlobalID``, generics, a ``from_input`` of another integration) keeps Strawberry's conversion.
``tests/api/test_input_builders.py`` checks that both give equal values for every input type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.schema.schema import Schema
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    StrawberryType,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType

from strawberry.scalars import is_scalar
from strawberry.types.unset import UNSET

Convert = Callable[[Any], Any]


class _NotPlanned(Exception):
    """The type holds something the plans do not cover: Strawberry converts it."""


def _keep(value: Any) -> Any:
    return value


def _copy_list(value: Any) -> Any:
    # graphql-core hands every request that omits a list the same default object
    return None if value is None else UNSET if value is UNSET else list(value)


class _Planner:
    def __init__(self, scalar_registry: Mapping[object, Any], name_of: Callable[[Any], str]) -> None:
        self._scalars = scalar_registry
        self._name_of = name_of
        self.builders: dict[type, Callable[..., Any]] = {}

    def _is_leaf(self, type_: Any) -> bool:
        if type_ is GlobalID:
            return False
        if isinstance(type_, StrawberryEnumDefinition) or has_enum_definition(type_):
            return True
        if isinstance(type_, LazyType):
            return self._is_leaf(type_.resolve_type())
        return is_scalar(type_, self._scalars)

    def converter(self, type_: StrawberryType | type) -> Convert:
        """How to convert a value of ``type_``; raises _NotPlanned for what Strawberry must do."""
        if isinstance(type_, StrawberryMaybe) or type_ is GlobalID:
            raise _NotPlanned(type_)
        if isinstance(type_, StrawberryOptional):
            return self.converter(type_.of_type)  # None and UNSET pass through every converter
        if isinstance(type_, LazyType):
            return self.converter(type_.resolve_type())
        if isinstance(type_, StrawberryList):
            item = type_.of_type
            bare = item.of_type if isinstance(item, StrawberryOptional) else item
            if self._is_leaf(bare) and not isinstance(item, StrawberryMaybe):
                return _copy_list
            convert_item = self.converter(item)

            def convert_list(value: Any) -> Any:
                if value is None or value is UNSET:
                    return value
                return [convert_item(x) for x in value]

            return convert_list
        if self._is_leaf(type_):
            return _keep
        if has_object_definition(type_):
            definition: StrawberryObjectDefinition = type_.__strawberry_definition__
            if not definition.is_input:
                raise _NotPlanned(type_)
            self.plan(type_)
            builders = self.builders

            def convert_object(value: Any) -> Any:
                if value is None or value is UNSET:
                    return value
                return builders[type_](type_, value)

            return convert_object
        raise _NotPlanned(type_)

    def plan(self, cls: type) -> None:
        """Compile the builder of input type ``cls`` (and of the input types inside it)."""
        if cls in self.builders:
            return
        definition: StrawberryObjectDefinition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        if getattr(definition.from_input, "planned", False):  # installed by an earlier schema build
            self.builders[cls] = definition.from_input  # type: ignore[assignment]
            return
        if definition.from_input is not None or definition.is_graphql_generic or definition.type_var_map:
            raise _NotPlanned(cls)
        self.builders[cls] = _unplanned  # a type that contains itself refers to its own builder
        try:
            unset = {f.python_name: None for f in definition.fields if f.default_value is MISSING and f.default_factory is MISSING}
            steps = [
                (self._name_of(field), field.python_name, self.converter(field.resolve_type(type_definition=definition)))
                for field in definition.fields
            ]
        except _NotPlanned:
            del self.builders[cls]
            raise

        def build(target: type, value: Mapping[str, Any], _context: Any = None) -> Any:
            kwargs = dict(unset)
            for graphql_name, python_name, convert in steps:
                if graphql_name in value:
                    field_value = value[graphql_name]
                    kwargs[python_name] = field_value if convert is _keep else convert(field_value)
            return target(**kwargs)

        build.planned = True  # type: ignore[attr-defined]
        self.builders[cls] = build


def _unplanned(*_: Any) -> Any:
    raise AssertionError("an input builder was used before its plan was complete")


def input_types(schema: Schema) -> list[type]:
    """The Python classes of the schema's input object types."""
    found = []
    for definition in schema.schema_converter.type_map.values():
        strawberry_definition = getattr(definition, "definition", None)
        if isinstance(strawberry_definition, StrawberryObjectDefinition) and strawberry_definition.is_input:
            found.append(strawberry_definition.origin)
    return found


def install(schema: Schema) -> dict[type, Callable[..., Any]]:
    """Give every input type of ``schema`` that the plans cover a compiled ``from_input``; returns them."""
    name_converter = schema.config.name_converter
    planner = _Planner(schema.schema_converter.scalar_registry, name_converter.from_field)
    installed: dict[type, Callable[..., Any]] = {}
    for cls in input_types(schema):
        try:
            planner.plan(cls)
        except _NotPlanned:
            continue
    for cls, build in planner.builders.items():
        cls.__strawberry_definition__.from_input = build  # type: ignore[attr-defined]
        installed[cls] = build
    return installed
