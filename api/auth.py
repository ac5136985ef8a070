"""Bearer-key authentication in front of /graphql.

Every request must carry ``Authorization: Bearer <key>``. A missing, unknown or revoked key is
answered 401 with a GraphQL-shaped error before anything is parsed or run. A valid key puts its role
in the request state, where the context picks it up. Keys are checked through services.keys (cached
in process).

WebSockets: an upgrade whose header carries an invalid key is refused at once (HTTP 403). One
without the header goes through: its key may come in ``connection_init`` (see api.socket_auth).

With authentication off (``CICLO_AUTH=off``, ``--insecure-no-auth``, or ``--demo``), every caller
acts as ADMIN.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.http_errors import send_error
from api.permissions import Role

_AUTHORIZATION = b"authorization"
_CHALLENGE = [(b"www-authenticate", b'Bearer realm="ciclo"')]
MISSING_KEY = "Missing API key: send the header `Authorization: Bearer <key>`."
INVALID_KEY = "Invalid or revoked API key."


def parse_bearer(value: str) -> str | None:
    scheme, _, token = value.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == _AUTHORIZATION:
            return parse_bearer(value.decode("latin-1"))
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
        if scope["type"] == "websocket":
            if token and principal is None:
                # Closing before accepting: the client sees HTTP 403 on its upgrade.
                await send({"type": "websocket.close", "code": 1008, "reason": INVALID_KEY})
                return
            # Without a header the key may still come in connection_init (api.socket_auth).
        elif principal is None and not _is_ide_page(scope):
            await send_error(send, 401, "UNAUTHENTICATED", INVALID_KEY if token else MISSING_KEY, _CHALLENGE)
            return
        if principal is not None:
            state["role"] = Role(principal.role)
            state["key_name"] = principal.name
            if scope["type"] == "websocket":
                # An open socket re-checks its key (api.socket_auth): a revoke closes it.
                state["api_key"] = token
        await self.app(scope, receive, send)
