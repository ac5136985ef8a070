"""What every resolver gets: the services, this request's loaders and its id."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from api.loaders import Loaders
from services.container import Services


@dataclass(slots=True)
class Context:
    services: Services
    loaders: Loaders
    request_id: str


Info = strawberry.Info[Context, None]
