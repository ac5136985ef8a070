"""The compiled input builders (api.input_builders) give what Strawberry's own conversion gives.

For every input type of the schema that has a compiled builder, values shaped like graphql-core's
coerced input (every field set, only the required ones, nullable ones explicitly null, lists of
nested inputs) are converted both ways and must be equal, field by field and type by type.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLScalarType
from strawberry.types.arguments import convert_argument

from api import input_builders
from api.schema import build_schema

SCHEMA = build_schema()
BUILDERS = input_builders.install(SCHEMA)
SCALARS = {"String": "text", "ID": "42", "Int": 7, "Float": 2.5, "Boolean": True, "JSON": {"channel": "web", "n": [1, 2]}}


def _sample(graphql_type: Any, depth: int, mode: str) -> Any:
    if isinstance(graphql_type, GraphQLNonNull):
        return _sample(graphql_type.of_type, depth, mode)
    if isinstance(graphql_type, GraphQLList):
        return [_sample(graphql_type.of_type, depth, mode) for _ in range(2)]
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values.values())).value
    if isinstance(graphql_type, GraphQLScalarType):
        return SCALARS.get(graphql_type.name, f"<{graphql_type.name}>")
    assert isinstance(graphql_type, GraphQLInputObjectType)
    return _object(graphql_type, depth + 1, mode)


def _object(graphql_type: GraphQLInputObjectType, depth: int, mode: str) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for name, field in graphql_type.fields.items():
        required = isinstance(field.type, GraphQLNonNull)
        if required or (mode == "all" and depth < 4):
            value[name] = _sample(field.type, depth, mode)
        elif mode == "nulls":
            value[name] = None
    return value


@contextlib.contextmanager
def strawberry_conversion() -> Iterator[None]:
    """Strawberry's generic conversion for the planned types, for the length of the block."""
    for cls in BUILDERS:
        cls.__strawberry_definition__.from_input = None  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for cls, build in BUILDERS.items():
            cls.__strawberry_definition__.from_input = build  # type: ignore[attr-defined]


def test_most_input_types_are_planned() -> None:
    names = {cls.__name__ for cls in BUILDERS}
    assert {"DecideInput", "OutcomeInput", "DecideBatchInput"} <= names
    assert len(BUILDERS) >= 15


@pytest.mark.parametrize("mode", ["all", "required", "nulls"])
@pytest.mark.parametrize("cls", sorted(BUILDERS, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_builders_give_what_strawberry_gives(cls: type, mode: str) -> None:
    registry = SCHEMA.schema_converter.scalar_registry
    graphql_type = SCHEMA._schema.type_map[cls.__strawberry_definition__.name]  # type: ignore[attr-defined]
    value = _object(graphql_type, 0, mode)
    ours = convert_argument(value, cls, registry, SCHEMA.config)
    with strawberry_conversion():
        theirs = convert_argument(value, cls, registry, SCHEMA.config)
    assert type(ours) is type(theirs) is cls
    assert ours == theirs
    # lists are copies: graphql-core shares default values between requests
    for name, field_value in vars(ours).items():
        if isinstance(field_value, list):
            assert field_value is not value.get(SCHEMA.config.name_converter.from_field(
                cls.__strawberry_definition__.get_field(name)))  # type: ignore[attr-defined]


async def test_a_bad_field_is_still_named_through_the_builders(gql) -> None:  # type: ignore[no-untyped-def]
    """Values built by the plans reach the services, whose errors still name the field."""
    data = await gql('mutation { decide(input: {decisionPoint: "NOPE", externalId: "x", customerId: "7"}) '
                     '{ __typename ... on InvalidInput { field } } }')
    assert data["decide"] == {"__typename": "InvalidInput", "field": "externalId"}
    data = await gql('mutation { decide(input: {decisionPoint: "NOPE", customerId: "seven"}) '
                     '{ __typename ... on InvalidInput { field } } }')
    assert data["decide"] == {"__typename": "InvalidInput", "field": "customerId"}
