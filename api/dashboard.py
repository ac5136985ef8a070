"""The analysts' dashboard at /dashboard: a static page whose own JavaScript reads /graphql and
draws SVG charts. Everything it needs is served from here, so it works offline."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).resolve().parent / "dashboard_assets"


async def page(_: Request) -> Response:
    return FileResponse(ASSETS / "index.html", media_type="text/html")


def routes() -> list[BaseRoute]:
    return [Route("/dashboard", page), Mount("/dashboard/assets", StaticFiles(directory=ASSETS), name="dashboard")]
