"""What every resolver gets: the services, this request's loaders, its id and the caller's role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry

from api.collector_pause import CollectorPause
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
    # The process's collector pause (api.collector_pause); set by the HTTP view, which ends a
    # request's hold once its response is encoded. None for in-process callers: nothing to pause.
    collector: CollectorPause | None = None
    holding_collector: bool = False

    def pause_collector(self) -> None:
        """For a resolver about to build a large result: no cyclic collections until it is answered."""
        if self.collector is not None and not self.holding_collector:
            self.holding_collector = self.collector.hold()

    def resume_collector(self) -> None:
        if self.holding_collector:
            self.holding_collector = False
            self.collector.release()  # type: ignore[union-attr]


Info = strawberry.Info[Context, None]
