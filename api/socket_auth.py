"""API keys on WebSockets (subscriptions).

Browsers cannot set headers on a WebSocket upgrade, so a socket may present its key in the
``connection_init`` payload: ``{"Authorization": "Bearer <key>"}``, ``{"authorization": ...}`` or
``{"apiKey": "<key>"}``. A key there wins over the upgrade's ``Authorization`` header (which
api.auth has already checked). Without a valid key the server does not acknowledge: Strawberry
closes a graphql-transport-ws socket with 4403 Forbidden and sends the older graphql-ws protocol a
``connection_error`` with the reason; no operation runs.

An open socket re-checks its key every key-cache period and is closed with 4403 once the key is
revoked, so a revoke reaches long-lived subscriptions too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from api.auth import INVALID_KEY, parse_bearer
from api.context import Context
from api.permissions import Role

MISSING_SOCKET_KEY = (
    "Missing API key: send it in the connection_init payload, "
    '{"Authorization": "Bearer <key>"}, or as the upgrade request\'s Authorization header.'
)
# Forbidden, in the graphql-transport-ws protocol's words (what Strawberry sends on a rejection).
FORBIDDEN = 4403
MIN_RECHECK_SECONDS = 1.0
log = logging.getLogger("ciclo.auth")


def connection_key(params: Mapping[str, Any] | None) -> str | None:
    """The key a socket's ``connection_init`` payload carries, if any. A key given in a form we
    cannot read (``Authorization: Basic ...``, a number) counts as presented and wrong: "" is
    returned so that it is refused rather than ignored."""
    if not params:
        return None
    for name in ("Authorization", "authorization"):
        if name in params:
            value = params[name]
            return (parse_bearer(value) if isinstance(value, str) else None) or ""
    if "apiKey" in params:
        value = params["apiKey"]
        return value.strip() if isinstance(value, str) else ""
    return None


def _refused(message: str) -> ConnectionRejectionError:
    return ConnectionRejectionError({"message": message, "extensions": {"code": "UNAUTHENTICATED"}})


async def authenticate_connection(context: Context, *, enabled: bool) -> None:
    """Give a socket the role of the key in its ``connection_init`` payload, or keep the one its
    upgrade header gave it; raise ConnectionRejectionError when there is no valid key. With
    authentication off every socket stays ADMIN."""
    if not enabled:
        return
    key = connection_key(context.connection_params)
    if key is None:
        if context.role is not None:
            return
        log.info("websocket refused: no API key (request %s)", context.request_id)
        raise _refused(MISSING_SOCKET_KEY)
    principal = await context.services.keys.verify(key) if key else None
    if principal is None:
        log.info("websocket refused: invalid or revoked API key (request %s)", context.request_id)
        raise _refused(INVALID_KEY)
    context.role = Role(principal.role)
    context.api_key = key


async def _close_when_revoked(context: Context, close: Any) -> None:
    keys = context.services.keys
    while True:
        await asyncio.sleep(max(keys.cache_seconds, MIN_RECHECK_SECONDS))
        if context.api_key is not None and await keys.verify(context.api_key) is None:
            log.info("websocket closed: its API key was revoked (request %s)", context.request_id)
            await close(code=FORBIDDEN, reason="Forbidden")
            return


class _KeyWatch:
    """Runs the protocol handler with a task beside it that closes the socket on revocation."""

    context: Context
    websocket: Any

    async def handle(self) -> None:
        watch = asyncio.create_task(_close_when_revoked(self.context, self.websocket.close))
        try:
            await super().handle()  # type: ignore[misc]
        finally:
            watch.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await watch


class KeyCheckedTransportWS(_KeyWatch, BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, closed with 4403 once the socket's key is revoked."""


class KeyCheckedGraphQLWS(_KeyWatch, BaseGraphQLWSHandler[Context, None]):
    """The older graphql-ws protocol, closed with 4403 once the socket's key is revoked."""
