"""Limits of §2 beyond depth/aliases/tokens: introspection, body size, bulk caps, request time."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.schema import build_schema
from tests.conftest import GQL, LiveServer, start_server, stop_server

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_refused_without_it_and_the_refusal_is_cached(gql: GQL) -> None:
    schema = build_schema(introspection=False)
    for _ in range(3):
        result = await schema.execute(INTROSPECTION)
        assert result.errors and "introspection" in result.errors[0].message.lower()
    assert schema.validation_results.runs == 1
    open_schema = build_schema()
    assert not (await open_schema.execute(INTROSPECTION)).errors


BULK = [
    ("mutation($i: [CustomerInput!]!) { upsertCustomers(input: $i) { accepted errors { index field message } } }",
     lambda n: [{"externalId": f"c{k}"} for k in range(n)], "upsertCustomers"),
    ("mutation($i: [EventInput!]!) { recordEvents(input: $i) { accepted errors { index field message } } }",
     lambda n: [{"externalId": "c", "type": "SIGNUP", "occurredAt": "2026-01-01T00:00:00Z"} for _ in range(n)],
     "recordEvents"),
]


@pytest.mark.parametrize(("query", "items", "field"), BULK, ids=[b[2] for b in BULK])
async def test_bulk_inputs_over_10000_items_are_refused_whole(gql: GQL, query: str, items: object, field: str) -> None:
    result = (await gql(query, {"i": items(10_001)}))[field]  # type: ignore[operator]
    assert result["accepted"] == 0
    assert result["errors"] == [{"index": None, "field": "input", "message": result["errors"][0]["message"]}]
    assert "10,000" in result["errors"][0]["message"] or "10000" in result["errors"][0]["message"]


async def test_outcome_and_decision_batches_over_10000_are_refused(gql: GQL) -> None:
    outcomes = [{"decisionId": str(k), "accepted": True} for k in range(10_001)]
    result = await gql("mutation($i: [OutcomeInput!]!) { recordOutcomes(input: $i) { __typename ... on InvalidInput { field message } } }",
                       {"i": outcomes})
    assert result["recordOutcomes"]["__typename"] == "InvalidInput" and "10,000" in result["recordOutcomes"]["message"]
    result = await gql("mutation($e: [String!]) { decideBatch(input: {decisionPoint: \"X\", externalIds: $e}) "
                       "{ __typename ... on InvalidInput { field message } } }", {"e": [f"c{k}" for k in range(10_001)]})
    assert result["decideBatch"]["__typename"] in ("InvalidInput", "UnknownDecisionPoint")


def _server_with(path: Path, env: dict[str, str]) -> Iterator[LiveServer]:
    server = start_server(f"sqlite+aiosqlite:///{path}", env=env)
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def limited_server(tmp_path: Path) -> Iterator[LiveServer]:
    yield from _server_with(tmp_path / "limits.db", {"CICLO_MAX_BODY_BYTES": "200000"})


@pytest.fixture
def hurried_server(tmp_path: Path) -> Iterator[LiveServer]:
    # 5 ms: a 2,000-customer upsert takes 55-65 ms on a quiet development machine, so the margin
    # is tenfold (at 50 ms the same request sometimes finished in time on a fast day).
    yield from _server_with(tmp_path / "hurried.db", {"CICLO_REQUEST_TIMEOUT_SECONDS": "0.005"})


def test_oversized_bodies_get_413_with_a_clear_error(limited_server: LiveServer) -> None:
    url = f"{limited_server.url}/graphql"
    big = {"query": "{ stages { stage } }", "variables": {"pad": "x" * 300_000}}
    response = httpx.post(url, json=big, timeout=30)
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE" and "200000 bytes" in error["message"]

    def chunks():  # type: ignore[no-untyped-def]
        # No Content-Length: the limit is enforced while the body streams in.
        for _ in range(40):
            yield b" " * 10_000

    streamed = httpx.post(url, content=chunks(), headers={"content-type": "application/json"}, timeout=30)
    assert streamed.status_code == 413
    # Under the limit, the same server answers.
    assert httpx.post(url, json={"query": "{ __typename }"}, timeout=30).status_code == 200


def test_slow_requests_get_504_with_a_clear_error_and_write_nothing(hurried_server: LiveServer) -> None:
    url = f"{hurried_server.url}/graphql"
    slow = httpx.post(url, timeout=60, json={
        "query": "mutation($i: [CustomerInput!]!) { upsertCustomers(input: $i) { accepted } }",
        "variables": {"i": [{"externalId": f"t{k}", "name": "Slow"} for k in range(2_000)]},
    })
    assert slow.status_code == 504
    assert slow.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert "0.005 s" in slow.json()["errors"][0]["message"]
    # The server is still there, and the cancelled transaction left nothing behind.
    assert httpx.get(f"{hurried_server.url}/healthz", timeout=10).status_code == 200
    database = hurried_server.database_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM customers").fetchone() == (0,)


def test_production_mode_refuses_introspection_over_http(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}", "--insecure-no-auth",
                          env={"CICLO_ENV": "production"})
    try:
        body = httpx.post(f"{server.url}/graphql", json={"query": INTROSPECTION}, timeout=30).json()
        assert "introspection" in body["errors"][0]["message"].lower()
        page = httpx.get(f"{server.url}/graphql", headers={"accept": "text/html"}, timeout=30)
        assert "graphiql" not in page.text.lower()
    finally:
        stop_server(server)
