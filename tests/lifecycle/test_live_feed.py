"""alertRaised over graphql-transport-ws, with a real websocket client against `ciclo serve`.

On PostgreSQL the server runs two workers: every subscriber, whichever worker holds its socket,
receives alerts raised by any worker (and by other processes) through LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets

from db.session import make_engine
from services.container import Services
from services.domain import EventDraft
from tests.conftest import LiveServer, start_server, stop_server

SUBSCRIBE = """subscription($filter: AlertFilter) {
  alertRaised(filter: $filter) { type status severity recommendedAction customerId } }"""


async def subscribe(server: LiveServer, variables: dict[str, Any]) -> Any:
    url = server.url.replace("http", "ws") + "/graphql"
    socket = await websockets.connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await socket.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": variables}}))
    return socket


async def next_alert(socket: Any, timeout: float = 15) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(socket.recv(), timeout))
    assert message["type"] == "next", message
    return message["payload"]["data"]["alertRaised"]


def post(server: LiveServer, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables}, timeout=30)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def complaint(external_id: str) -> dict[str, Any]:
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return {"externalId": external_id, "type": "COMPLAINT", "occurredAt": at, "reason": "rude staff"}


RECORD = "mutation($input: [EventInput!]!) { recordEvents(input: $input) { accepted } }"
UPSERT = "mutation($input: [CustomerInput!]!) { upsertCustomers(input: $input) { accepted } }"


async def test_a_websocket_subscriber_receives_alerts_as_they_are_raised(live_server: LiveServer) -> None:
    post(live_server, UPSERT, {"input": [{"externalId": "w1"}, {"externalId": "w2"}]})
    complaints = await subscribe(live_server, {"filter": {"type": "COMPLAINT"}})
    surveys = await subscribe(live_server, {"filter": {"type": "NEGATIVE_SURVEY"}})
    await asyncio.sleep(0.5)
    await asyncio.to_thread(post, live_server, RECORD, {"input": [complaint("w1")]})
    alert = await next_alert(complaints)
    assert (alert["type"], alert["status"], alert["recommendedAction"]) == ("COMPLAINT", "OPEN", "RETENTION")
    # The other subscriber's filter kept the complaint away from it.
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(surveys.recv(), 1)
    await complaints.close()
    await surveys.close()


# Several workers share alerts through PostgreSQL LISTEN/NOTIFY: a PostgreSQL-only deployment.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_subscribers_on_every_worker_get_alerts_raised_anywhere(database_url: str) -> None:
    assert database_url.startswith("postgresql")
    server = start_server(database_url, "--workers", "2")
    try:
        post(server, UPSERT, {"input": [{"externalId": f"m{i}"} for i in range(8)]})
        # Enough sockets that both workers hold some (the kernel spreads accepted connections).
        sockets = [await subscribe(server, {}) for _ in range(8)]
        await asyncio.sleep(1.0)
        # Raised by HTTP requests that land on either worker...
        for i in range(4):
            await asyncio.to_thread(post, server, RECORD, {"input": [complaint(f"m{i}")]})
        # ...and by another process altogether (a CLI import, a batch job).
        engine = make_engine(database_url)
        try:
            outside = Services.build(engine)
            await outside.events.record_many([
                EventDraft(f"m{i}", "COMPLAINT", datetime.now(UTC) - timedelta(minutes=1)) for i in range(4, 8)
            ])
        finally:
            await engine.dispose()
        for socket in sockets:
            got = {(await next_alert(socket))["customerId"] for _ in range(8)}
            assert len(got) == 8
            await socket.close()
    finally:
        stop_server(server)
    assert "lifecycle sweep failed" not in server.log_text()
