"""What every resolver gets: the services, this request's loaders, its id and the caller's role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry

from api.loaders import Loaders
from api.permissions import Role
from services.container import Services


@dataclass(slots=True)
class Context:
    services: Services
    loaders: Loaders
    request_id: str
    # In-process callers (tests, benches, the CLI) are trusted and act as ADMIN; the HTTP layer
    # always sets the role from the caller's API key (api.auth).
    role: Role | None = Role.ADMIN
    # What the request log and metrics learn about the operation (api.observability), if anyone listens.
    trace: Any = None
    # A WebSocket's connection_init payload (Strawberry fills it in) and the key the socket
    # authenticated with, which it re-checks while open (api.socket_auth). None on HTTP requests.
    connection_params: dict[str, Any] | None = None
    api_key: str | None = None


Info = strawberry.Info[Context, None]
