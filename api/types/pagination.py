"""Relay connection plumbing shared by every paginated field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

from services.domain import Page

Node = TypeVar("Node")
Item = TypeVar("Item")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


def edges_of(page: Page[Item], convert: Callable[[Item], Node]) -> tuple[list[Edge[Node]], PageInfo]:
    edges = [Edge(cursor=c, node=convert(item)) for item, c in zip(page.items, page.cursors)]
    info = PageInfo(has_next_page=page.has_next, end_cursor=page.cursors[-1] if page.cursors else None)
    return edges, info


CountFn = Callable[[], Awaitable[int]]
