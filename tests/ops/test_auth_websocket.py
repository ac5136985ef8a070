"""API keys on subscriptions: a real `ciclo serve` in production mode and a real websocket client.

Browsers cannot set headers on a WebSocket upgrade, so the key may come in the graphql-transport-ws
``connection_init`` payload; clients that can set headers may send ``Authorization`` on the upgrade.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets

from db.session import make_engine, make_sessionmaker
from services.keys import ApiKeys
from tests.conftest import LiveServer, start_server, stop_server
from tests.ops.test_auth_http import Keys, _make_keys, _revoke

SUBSCRIBE = {"id": "1", "type": "subscribe", "payload": {"query": "subscription { alertRaised { type customerId } }"}}


async def _campaign_key(database_url: str, name: str) -> str:
    engine = make_engine(database_url)
    try:
        return (await ApiKeys(make_sessionmaker(engine)).create("CAMPAIGN", name))[0]
    finally:
        await engine.dispose()


@pytest.fixture
def secured(database_url: str) -> Iterator[tuple[LiveServer, Keys]]:
    keys = asyncio.run(_make_keys(database_url))
    for name in ("ws-payload", "ws-header"):
        keys.by_role[name] = asyncio.run(_campaign_key(database_url, name))
    server = start_server(database_url, auth=True, env={"CICLO_KEY_CACHE_SECONDS": "0.5"})
    try:
        yield server, keys
    finally:
        stop_server(server)


def _ws_url(server: LiveServer) -> str:
    return server.url.replace("http", "ws") + "/graphql"


async def _socket(server: LiveServer, init: dict[str, Any] | None, *, header_key: str | None = None,
                  protocol: str = "graphql-transport-ws") -> Any:
    headers = {"Authorization": f"Bearer {header_key}"} if header_key else {}
    socket = await websockets.connect(_ws_url(server), subprotocols=[protocol], additional_headers=headers)  # type: ignore[list-item]
    message: dict[str, Any] = {"type": "connection_init"}
    if init is not None:
        message["payload"] = init
    await socket.send(json.dumps(message))
    return socket


async def _closed_with(socket: Any) -> tuple[int, str]:
    """The close code and reason of a socket the server closes next (any message first fails)."""
    try:
        message = await asyncio.wait_for(socket.recv(), 10)
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError(f"expected the socket to be closed, got {message}")


async def _acknowledged(socket: Any) -> None:
    assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"


def _post(server: LiveServer, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {key}"}, timeout=30)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def _raise_a_complaint(server: LiveServer, key: str, external_id: str) -> None:
    _post(server, key, "mutation($i: [CustomerInput!]!) { upsertCustomers(input: $i) { accepted } }",
          {"i": [{"externalId": external_id}]})
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    _post(server, key, "mutation($i: [EventInput!]!) { recordEvents(input: $i) { accepted } }",
          {"i": [{"externalId": external_id, "type": "COMPLAINT", "occurredAt": at, "reason": "rude staff"}]})


async def _next_alert(socket: Any) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(socket.recv(), 20))
    assert message["type"] == "next", message
    return message["payload"]["data"]["alertRaised"]


async def check_missing_unknown_and_revoked_keys_close_the_socket_4403(server: LiveServer, keys: Keys) -> None:
    for init in [None, {}, {"apiKey": "ciclo_madeup"}, {"Authorization": f"Bearer {keys.revoked}"},
                 {"authorization": f"Basic {keys.by_role['CAMPAIGN']}"}]:
        socket = await _socket(server, init)
        assert await _closed_with(socket) == (4403, "Forbidden"), init


async def check_an_invalid_header_key_is_refused_at_the_upgrade(server: LiveServer, keys: Keys) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await _socket(server, None, header_key=keys.revoked)
    assert refused.value.response.status_code == 403


async def check_the_older_protocol_gets_the_reason(server: LiveServer, keys: Keys) -> None:
    socket = await _socket(server, {"apiKey": keys.revoked}, protocol="graphql-ws")
    message = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert message == {"type": "connection_error",
                       "payload": {"message": "Invalid or revoked API key.", "extensions": {"code": "UNAUTHENTICATED"}}}
    await socket.close()


async def check_a_denied_role_gets_forbidden_and_its_subscription_never_runs(server: LiveServer, keys: Keys) -> None:
    socket = await _socket(server, {"apiKey": keys.by_role["FRONTEND"]})
    try:
        await _acknowledged(socket)
        await socket.send(json.dumps(SUBSCRIBE))
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "FORBIDDEN", message
        assert "Forbidden: this field needs an API key with one of the roles" in message["payload"][0]["message"]
        _raise_a_complaint(server, keys.by_role["CAMPAIGN"], "ws-denied")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.recv(), 2)
    finally:
        await socket.close()


async def check_campaign_keys_receive_alerts_by_payload_or_header(server: LiveServer, keys: Keys) -> None:
    campaign = keys.by_role["CAMPAIGN"]
    by_payload = [
        await _socket(server, {"Authorization": f"Bearer {campaign}"}),
        await _socket(server, {"authorization": f"bearer {campaign}"}),
        await _socket(server, {"apiKey": campaign}),
    ]
    by_header = await _socket(server, None, header_key=campaign)
    # A valid key in the payload wins over the header's (and a wrong one there is refused).
    overridden = await _socket(server, {"apiKey": keys.by_role["FRONTEND"]}, header_key=campaign)
    opened = [*by_payload, by_header, overridden]
    try:
        for socket in opened:
            await _acknowledged(socket)
            await socket.send(json.dumps(SUBSCRIBE))
        denied = json.loads(await asyncio.wait_for(overridden.recv(), 10))
        assert denied["type"] == "error", denied
        _raise_a_complaint(server, campaign, "ws-allowed")
        for socket in [*by_payload, by_header]:
            assert (await _next_alert(socket))["type"] == "COMPLAINT"
    finally:
        for socket in opened:
            await socket.close()


async def check_revoking_a_key_closes_its_open_sockets(server: LiveServer, keys: Keys) -> None:
    by_payload = await _socket(server, {"apiKey": keys.by_role["ws-payload"]})
    by_header = await _socket(server, None, header_key=keys.by_role["ws-header"])
    untouched = await _socket(server, {"apiKey": keys.by_role["CAMPAIGN"]})
    opened = [by_payload, by_header, untouched]
    try:
        for socket in opened:
            await _acknowledged(socket)
            await socket.send(json.dumps(SUBSCRIBE))
        await asyncio.sleep(1.5)  # past a re-check: still open while the keys are valid
        for name in ("ws-payload", "ws-header"):
            await _revoke(server.database_url, name)
        # Re-checked every max(cache 0.5 s, 1 s): closed well within 10 s.
        assert await _closed_with(by_payload) == (4403, "Forbidden")
        assert await _closed_with(by_header) == (4403, "Forbidden")
        _raise_a_complaint(server, keys.by_role["CAMPAIGN"], "ws-after-revoke")
        assert (await _next_alert(untouched))["type"] == "COMPLAINT"
    finally:
        for socket in opened:
            await socket.close()


async def test_subscriptions_authenticate_with_a_key_in_connection_init_or_the_upgrade_header(
    secured: tuple[LiveServer, Keys],
) -> None:
    """One server per backend: refusals (4403 for missing, unknown, unreadable and revoked keys;
    HTTP 403 for a bad header), FORBIDDEN for a role without the subscription, alerts delivered to
    CAMPAIGN keys however they present them, open sockets closed once their key is revoked."""
    server, keys = secured
    await check_missing_unknown_and_revoked_keys_close_the_socket_4403(server, keys)
    await check_an_invalid_header_key_is_refused_at_the_upgrade(server, keys)
    await check_the_older_protocol_gets_the_reason(server, keys)
    await check_a_denied_role_gets_forbidden_and_its_subscription_never_runs(server, keys)
    await check_campaign_keys_receive_alerts_by_payload_or_header(server, keys)
    await check_revoking_a_key_closes_its_open_sockets(server, keys)
    assert "websocket refused: invalid or revoked API key" in server.log_text()
