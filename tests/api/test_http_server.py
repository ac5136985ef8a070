"""The real server: `ciclo serve` over HTTP, with request ids, GraphiQL and masked failures."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text

from db.session import make_engine
from tests.conftest import LiveServer


def post(server: LiveServer, query: str, variables: dict | None = None, headers: dict | None = None) -> httpx.Response:
    return httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables or {}},
                      headers=headers or {}, timeout=30)


def test_serves_graphql_and_echoes_the_callers_request_id(live_server: LiveServer) -> None:
    created = post(live_server, 'mutation { upsertCustomers(input: [{externalId: "h1", name: "Hugo"}]) { accepted } }',
                   headers={"X-Request-Id": "campaign-42"})
    assert created.status_code == 200
    assert created.json() == {"data": {"upsertCustomers": {"accepted": 1}}}
    assert created.headers["x-request-id"] == "campaign-42"
    view = post(live_server, '{ customerByExternalId(externalId: "h1") { name stage } }')
    assert view.json()["data"]["customerByExternalId"] == {"name": "Hugo", "stage": "AWARENESS"}
    assert len(view.headers["x-request-id"]) == 32
    assert float(view.headers["server-timing"].removeprefix("app;dur=")) > 0


def test_request_and_response_json_edge_cases(live_server: LiveServer) -> None:
    """Bodies are parsed and answers encoded with orjson; what it refuses still gets the standard
    answer: a 400 for a body that is not JSON, and integers past 64 bits kept exact."""
    bad = httpx.post(f"{live_server.url}/graphql", content=b'{"query": "{ __typename }"', timeout=30,
                     headers={"content-type": "application/json"})
    assert bad.status_code == 400 and "Unable to parse request body as JSON" in bad.text
    huge = 2**70
    created = post(live_server, 'mutation($c: [CustomerInput!]!) { upsertCustomers(input: $c) { accepted } }',
                   {"c": [{"externalId": "big", "name": "Ünïcode", "attributes": {"huge": huge, "note": "ñ"}}]})
    assert created.status_code == 200 and created.json()["data"]["upsertCustomers"]["accepted"] == 1
    view = post(live_server, '{ customerByExternalId(externalId: "big") { name attributes } }')
    assert view.status_code == 200
    assert view.json()["data"]["customerByExternalId"] == {"name": "Ünïcode", "attributes": {"huge": huge, "note": "ñ"}}


def test_graphiql_is_served_to_browsers(live_server: LiveServer) -> None:
    page = httpx.get(f"{live_server.url}/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def test_unexpected_failures_are_masked_with_the_request_id(live_server: LiveServer) -> None:
    async def break_segments() -> None:
        engine = make_engine(live_server.database_url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE segment_members"))
            await conn.execute(text("DROP TABLE segments"))
        await engine.dispose()

    asyncio.run(break_segments())
    response = post(live_server, "{ segments { key } }", headers={"X-Request-Id": "req-boom"})
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error; reference request id req-boom."
    assert error["extensions"] == {"requestId": "req-boom"}
    assert "no such table" not in response.text and "does not exist" not in response.text
    # The operator still sees the real cause, tied to the same request id.
    log = live_server.log_text()
    assert "request req-boom" in log
    assert "no such table" in log or "does not exist" in log


def test_two_workers_serve_the_same_database(database_url: str) -> None:
    from tests.conftest import start_server, stop_server

    server = start_server(database_url, "--workers", "2")
    try:
        items = [{"externalId": f"w{i}"} for i in range(40)]
        # Several connections, so both worker processes take requests.
        responses = []
        for item in items:
            with httpx.Client(timeout=30) as client:
                responses.append(client.post(f"{server.url}/graphql", json={
                    "query": "mutation($i: [CustomerInput!]!) { upsertCustomers(input: $i) { accepted } }",
                    "variables": {"i": [item]}}))
        assert all(r.json()["data"]["upsertCustomers"]["accepted"] == 1 for r in responses)
        total = post(server, "{ customers(first: 1) { totalCount } }").json()
        assert total["data"]["customers"]["totalCount"] == 40
        assert server.log_text().count("Application startup complete") == 2
    finally:
        stop_server(server)
