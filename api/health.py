"""/healthz: the process is up. /readyz: this worker can serve (database, migrations, models)."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db import migrate
from services.container import Services
from services.offers.health import unloaded_points

CHECK_SECONDS = 3.0


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when every check passes, else 503; the body says which check failed and why, and which
    worker process answered (behind one port, each worker is ready on its own)."""
    services: Services = request.app.state.services
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            async with services.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", with its kind
        checks["database"] = f"unreachable: {type(exc).__name__}: {exc}"[:300]
    if checks["database"] == "ok":
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                current = await migrate.is_current(services.engine)
                missing = await unloaded_points(services.offers.registry)
            checks["migrations"] = "ok" if current else "pending: run `ciclo db upgrade`"
            checks["models"] = "ok" if not missing else f"not loaded: {', '.join(missing)}"
        except Exception as exc:  # noqa: BLE001
            checks.setdefault("migrations", f"unknown: {type(exc).__name__}")
            checks["models"] = f"unknown: {type(exc).__name__}"
    else:
        checks["migrations"] = checks["models"] = "skipped: database unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks, "worker": os.getpid()},
                        status_code=200 if ready else 503)
