"""The whole app in process, lifespan included, with a GraphQL caller: for tests of what a serving
process does to itself (its collector settings). What the app changes process-wide is put back.
And what a run leaves for the cyclic collector alone to free."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings

Post = Callable[..., dict[str, Any]]


def cyclic_garbage(run: Callable[[], None], keep: Callable[[object], bool]) -> list[str]:
    """The type names of the objects ``keep`` selects that only the cyclic collector could free
    after ``run()`` (run with the collector off)."""
    gc.collect()
    gc.disable()
    try:
        run()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return [type(o).__name__ for o in gc.garbage if keep(o)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@contextmanager
def serving_app(database_url: str) -> Iterator[tuple[Starlette, TestClient, Post]]:
    before = gc.get_threshold()
    try:
        app = create_app(Settings(database_url=database_url, auth=False, log_level="warning"))
        with TestClient(app) as client:

            def post(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
                body = client.post("/graphql", json={"query": query, "variables": variables or {}}).json()
                assert "errors" not in body, body
                return body["data"]

            yield app, client, post
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
