"""Relay connection plumbing shared by every paginated field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from services import cursors
from services.domain import Page

Node = TypeVar("Node")
Item = TypeVar("Item")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    node: Node
    _key: strawberry.Private[tuple[Any, int]]

    @strawberry.field(description="Pass as `after` to continue right after this edge.")
    def cursor(self) -> str:
        # Encoded on demand: most clients never read per-edge cursors.
        return cursors.encode(*self._key)


def edges_of(page: Page[Item], convert: Callable[[Item], Node]) -> tuple[list[Edge[Node]], PageInfo]:
    edges = [Edge(node=convert(item), _key=key) for item, key in zip(page.items, page.keys)]
    end = cursors.encode(*page.keys[-1]) if page.keys else None
    return edges, PageInfo(has_next_page=page.has_next, end_cursor=end)


CountFn = Callable[[], Awaitable[int]]
