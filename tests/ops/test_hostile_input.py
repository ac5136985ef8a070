"""Hostile input: schemathesis-generated GraphQL operations, and oversized, deep and alias-bomb
queries, against a real server. No 5xx, no unexpected error logged, clear refusals."""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import GQL, LiveServer, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = 1_000


def _json_node(value: object):  # type: ignore[no-untyped-def]
    """A JSON value as a GraphQL literal (what the JSON scalar accepts inline)."""
    from graphql import NameNode, ObjectFieldNode

    nodes = schemathesis.graphql.nodes
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([_json_node(v) for v in value])
    assert isinstance(value, dict)
    return nodes.Object([ObjectFieldNode(name=NameNode(value=k), value=_json_node(v)) for k, v in value.items()])


_NAMES = st.sampled_from(["all", "any", "not", "field", "op", "value", "age", "channel", "stage", "a"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["EQ", "GT", "IN", "stage", "CHURNED", "attributes.age"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_NAMES, inner, max_size=4),
    max_leaves=12,
)
schemathesis.graphql.scalar("JSON", _JSON.map(_json_node))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(f"sqlite+aiosqlite:///{tmp_path / 'hostile.db'}", "--config", str(ROOT / "ciclo.toml"),
                        env={"CICLO_MAX_BODY_BYTES": "1000000"}, timeout=120)
    try:
        yield live
    finally:
        stop_server(live)


def unexpected_errors(server: LiveServer) -> list[str]:
    return [line for line in server.log_text().splitlines()
            if line.startswith("{") and json.loads(line)["level"] in ("error", "critical")]


def test_generated_operations_never_get_a_5xx_or_an_unexpected_error(server: LiveServer) -> None:
    schema = schemathesis.graphql.from_path(str(ROOT / "schema.graphql"))
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: collections.Counter[int] = collections.Counter()
    failures: list[str] = []
    client = httpx.Client(base_url=server.url, timeout=60)
    started = time.monotonic()

    @settings(max_examples=OPERATIONS, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of([operation.as_strategy() for operation in operations]))
    def send(case: schemathesis.Case) -> None:
        response = client.post("/graphql", json={"query": case.body})
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} for {case.body}: {response.text[:300]}")

    send()
    client.close()
    took = time.monotonic() - started
    sent = sum(statuses.values())
    print(f"\nschemathesis: {sent} generated operations over {len(operations)} root fields in {took:.1f} s; "
          f"HTTP statuses {dict(statuses)}")
    assert sent >= 1_000
    assert not failures, "\n".join(failures[:10])
    assert not unexpected_errors(server), unexpected_errors(server)[:5]


def test_oversized_deep_and_alias_bomb_queries_are_refused_with_clear_errors(server: LiveServer) -> None:
    url = f"{server.url}/graphql"
    oversized = httpx.post(url, json={"query": "{ stages { stage } }", "variables": {"x": "y" * 1_100_000}}, timeout=60)
    assert oversized.status_code == 413 and "Request body too large" in oversized.json()["errors"][0]["message"]

    deep = "{ customers { edges { node { " + "referrer { " * 20 + "id" + " }" * 20 + " } } } }"
    body = httpx.post(url, json={"query": deep}, timeout=60).json()
    assert "levels deep; the limit is 15" in body["errors"][0]["message"]

    bomb = "{ " + " ".join(f"a{i}: stages {{ stage }}" for i in range(500)) + " }"
    body = httpx.post(url, json={"query": bomb}, timeout=60).json()
    assert "500 aliases" in body["errors"][0]["message"] and "limit is 50" in body["errors"][0]["message"]

    fragment_bomb = ("query { " + " ".join(f"x{i}: customers(first: 1) {{ ...F }}" for i in range(10))
                     + " } fragment F on CustomerConnection { " + " ".join(f"t{i}: totalCount" for i in range(10)) + " }")
    body = httpx.post(url, json={"query": fragment_bomb}, timeout=60).json()
    assert "aliases" in body["errors"][0]["message"]

    tokens = "{ stages { " + "stage " * 25_000 + "} }"
    body = httpx.post(url, json={"query": tokens}, timeout=60).json()
    assert "token" in body["errors"][0]["message"].lower()
    assert not unexpected_errors(server)


async def test_a_threshold_beyond_a_century_is_refused_not_stored(gql: GQL) -> None:
    """Found by the generated operations: churnHorizonDays 1e300 was stored, and every lifecycle
    pass after it failed on date arithmetic."""
    result = await gql("mutation { configureLifecycle(input: {churnHorizonDays: 1e300}) "
                       "{ __typename ... on InvalidInput { field message } } }")
    assert result["configureLifecycle"] == {"__typename": "InvalidInput", "field": "churnHorizonDays",
                                            "message": result["configureLifecycle"]["message"]}
    assert "at most 36,500" in result["configureLifecycle"]["message"]
    await gql('mutation { upsertCustomers(input: [{externalId: "ok", email: "ok@example.com"}]) { accepted } }')
