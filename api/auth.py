"""Bearer-key authentication in front of /graphql.

Every request must carry ``Authorization: Bearer <key>``. A missing, unknown or revoked key is
answered 401 with a GraphQL-shaped error before anything is parsed or run. A valid key puts its role
in the request state, where the context picks it up. Keys are checked through services.keys (cached
in process).

WebSockets: browsers cannot set headers on the upgrade, so a socket may present its key in the
``connection_init`` payload instead (``{"Authorization": "Bearer <key>"}``, ``{"authorization": ...}``
or ``{"apiKey": "<key>"}``); ``authenticate_connection`` checks it before the server acknowledges.
A socket with neither key is closed with 4403 Forbidden (graphql-transport-ws; the older graphql-ws
protocol gets a ``connection_error`` with the reason) and no operation runs. An upgrade whose header
carries an invalid key is refused at once (HTTP 403).

With authentication off (``CICLO_AUTH=off``, ``--insecure-no-auth``, or ``--demo``), every caller
acts as ADMIN.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.exceptions import ConnectionRejectionError

from api.context import Context
from api.http_errors import send_error
from api.permissions import Role

_AUTHORIZATION = b"authorization"
_CHALLENGE = [(b"www-authenticate", b'Bearer realm="ciclo"')]
MISSING_KEY = "Missing API key: send the header `Authorization: Bearer <key>`."
MISSING_SOCKET_KEY = (
    "Missing API key: send it in the connection_init payload, "
    '{"Authorization": "Bearer <key>"}, or as the upgrade request\'s Authorization header.'
)
INVALID_KEY = "Invalid or revoked API key."
log = logging.getLogger("ciclo.auth")


def _bearer(value: str) -> str | None:
    scheme, _, token = value.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == _AUTHORIZATION:
            return _bearer(value.decode("latin-1"))
    return None


def connection_key(params: Mapping[str, Any] | None) -> str | None:
    """The key a socket's ``connection_init`` payload carries, if any. A key given in a form we
    cannot read (``Authorization: Basic ...``, a number) counts as presented and wrong: "" is
    returned so that it is refused rather than ignored."""
    if not params:
        return None
    for name in ("Authorization", "authorization"):
        if name in params:
            value = params[name]
            return (_bearer(value) if isinstance(value, str) else None) or ""
    if "apiKey" in params:
        value = params["apiKey"]
        return value.strip() if isinstance(value, str) else ""
    return None


async def authenticate_connection(context: Context, *, enabled: bool) -> None:
    """Give a socket the role of the key in its ``connection_init`` payload, or keep the one its
    upgrade header gave it; raise ConnectionRejectionError (Strawberry closes with 4403) when there
    is no valid key. With authentication off every socket stays ADMIN."""
    if not enabled:
        return
    key = connection_key(context.connection_params)
    if key is None:
        if context.role is not None:
            return
        log.info("websocket refused: no API key (request %s)", context.request_id)
        raise ConnectionRejectionError({"message": MISSING_SOCKET_KEY, "extensions": {"code": "UNAUTHENTICATED"}})
    principal = await context.services.keys.verify(key) if key else None
    if principal is None:
        log.info("websocket refused: invalid or revoked API key (request %s)", context.request_id)
        raise ConnectionRejectionError({"message": INVALID_KEY, "extensions": {"code": "UNAUTHENTICATED"}})
    context.role = Role(principal.role)


def _is_ide_page(scope: Scope) -> bool:
    """The GraphiQL page itself (a browser GET with no query): no operation runs."""
    if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("query_string"):
        return False
    accept = dict(scope.get("headers") or ()).get(b"accept", b"")
    return b"text/html" in accept


class AuthGate:
    def __init__(self, app: ASGIApp, *, enabled: bool) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        if not self.enabled:
            state["role"] = Role.ADMIN
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        principal = await scope["app"].state.services.keys.verify(token) if token else None
        if scope["type"] == "websocket":
            if token and principal is None:
                # Closing before accepting: the client sees HTTP 403 on its upgrade.
                await send({"type": "websocket.close", "code": 1008, "reason": INVALID_KEY})
                return
            # Without a header the key may still come in connection_init (authenticate_connection).
        elif principal is None and not _is_ide_page(scope):
            await send_error(send, 401, "UNAUTHENTICATED", INVALID_KEY if token else MISSING_KEY, _CHALLENGE)
            return
        if principal is not None:
            state["role"] = Role(principal.role)
            state["key_name"] = principal.name
        await self.app(scope, receive, send)
