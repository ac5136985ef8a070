"""Bearer-key authentication in front of /graphql.

Every request must carry ``Authorization: Bearer <key>``. A missing, unknown or revoked key is
answered 401 with a GraphQL-shaped error before anything is parsed or run; a WebSocket upgrade
without a valid key is refused (HTTP 403) the same way. A valid key puts its role in the request
state, where the context picks it up. Keys are checked through services.keys (cached in process).

With authentication off (``CICLO_AUTH=off``, ``--insecure-no-auth``, or ``--demo``), every caller
acts as ADMIN.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.http_errors import send_error
from api.permissions import Role

_AUTHORIZATION = b"authorization"
_CHALLENGE = [(b"www-authenticate", b'Bearer realm="ciclo"')]


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == _AUTHORIZATION:
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


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
        if principal is None and not _is_ide_page(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": "missing or invalid API key"})
                return
            message = (
                "Invalid or revoked API key." if token
                else "Missing API key: send the header `Authorization: Bearer <key>`."
            )
            await send_error(send, 401, "UNAUTHENTICATED", message, _CHALLENGE)
            return
        if principal is not None:
            state["role"] = Role(principal.role)
            state["key_name"] = principal.name
        await self.app(scope, receive, send)
