"""The plain-field fast path answers exactly as graphql-core's regular execution does."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.execution import PlainFieldExecutionContext, plain_fields


@strawberry.enum
class Colour(Enum):
    RED = "RED"
    BLUE = "BLUE"


class Denied(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Child:
    label: str
    note: str | None


@strawberry.type
class Item:
    name: str
    maybe: str | None
    colour: Colour
    at: datetime
    child: Child
    children: list[Child]
    loose: list[Child | None] | None
    secret: str | None = strawberry.field(permission_classes=[Denied])

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


def _items() -> list[Item]:
    """A good item, then one item per kind of fault."""
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def item(**changes: Any) -> Item:
        values: dict[str, Any] = dict(
            name="a", maybe=None, colour=Colour.RED, at=at, child=Child(label="c", note=None),
            children=[Child(label="x", note="n")], loose=[None, Child(label="y", note=None)], secret="s",
        )
        values.update(changes)
        return Item(**values)

    return [
        item(),
        item(name=None),  # null for a non-null scalar
        item(colour="not a colour"),  # a value the enum refuses
        item(child=Child(label=None, note=None)),  # null inside a non-null object
        item(children=[Child(label="z", note=None), Child(label=None, note=None)]),  # a bad item of a non-null list
        item(loose=[Child(label=None, note=None), None]),  # a bad item of a nullable list
        item(at="yesterday"),  # a value the scalar refuses
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return _items()  # type: ignore[return-value]

    @strawberry.field
    async def later(self) -> list[Item | None]:
        return _items()  # type: ignore[return-value]


QUERY = """{
  items { name maybe colour at shout secret child { label note } children { label } loose { label note } }
  later { name colour child { label } children { label note } }
}"""


def _run(context_class: type) -> tuple[Any, list[tuple[str, Any]]]:
    import asyncio

    schema = strawberry.Schema(query=Query, execution_context_class=context_class)
    result = asyncio.run(schema.execute(QUERY))
    errors = sorted((e.message, e.path) for e in result.errors or [])
    return result.data, errors


def test_plain_fields_give_the_same_data_and_errors_as_regular_execution() -> None:
    fast_data, fast_errors = _run(PlainFieldExecutionContext)
    stock_data, stock_errors = _run(StrawberryGraphQLCoreExecutionContext)
    assert fast_data == stock_data
    assert fast_errors == stock_errors
    # the broken item really exercised the error paths: nulls for non-null fields, a bad enum,
    # a bad item inside a non-null list, and the permission class
    assert len(stock_errors) >= 12
    assert fast_data["items"][0]["loose"] == [None, {"label": "y", "note": None}]
    assert fast_data["items"][0]["secret"] is None


def test_fields_with_resolvers_or_permission_classes_never_take_the_fast_path() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=PlainFieldExecutionContext)
    item = schema._schema.type_map["Item"]
    fast = plain_fields(item)  # type: ignore[arg-type]
    assert {"name", "maybe", "colour", "at", "child", "children", "loose"} <= set(fast)
    assert "shout" not in fast and "secret" not in fast


def test_an_extension_with_a_resolve_hook_sees_every_field() -> None:
    import asyncio

    seen: list[str] = []

    class Watch(SchemaExtension):
        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    schema = strawberry.Schema(query=Query, extensions=[Watch], execution_context_class=PlainFieldExecutionContext)
    result = asyncio.run(schema.execute("{ items { maybe colour } }"))
    assert result.data is not None
    assert seen.count("maybe") == 7 and seen.count("colour") == 7


def test_sub_selections_are_collected_once_per_document_unless_directives_could_change_them(monkeypatch: Any) -> None:
    import asyncio

    import graphql.execution.executor as executor_module
    from strawberry.extensions import ParserCache

    calls: list[str] = []
    collect = executor_module.collect_subfields

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[4].name)  # the return type
        return collect(*args, **kwargs)

    monkeypatch.setattr(executor_module, "collect_subfields", counted)
    # Parsed documents cached per query text, as Ciclo's schema does.
    schema = strawberry.Schema(query=Query, extensions=[ParserCache], execution_context_class=PlainFieldExecutionContext)

    def run(query: str, variables: dict[str, Any] | None = None, on: Any = schema) -> Any:
        return asyncio.run(on.execute(query, variable_values=variables)).data

    first = run("{ items { name child { label } } }")
    collected = len(calls)
    assert collected >= 2  # Item, then Child
    again = run("{ items { name child { label } } }")
    assert again == first and len(calls) == collected  # the cached document: nothing collected again
    # a document parsed anew is new nodes: collected again, the same answer
    uncached = strawberry.Schema(query=Query, execution_context_class=PlainFieldExecutionContext)
    assert run("{ items { name child { label } } }", on=uncached) == first and len(calls) > collected
    # with a directive, what is collected follows the variables, request by request
    query = "query($c: Boolean!) { items { name child @include(if: $c) { label } } }"
    before = len(calls)
    with_child = run(query, {"c": True})
    assert run(query, {"c": True}) == with_child and len(calls) == before + 4  # Item and Child, each time
    without = run(query, {"c": False})
    assert "child" in with_child["items"][0] and "child" not in without["items"][0]
