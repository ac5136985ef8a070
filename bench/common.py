"""Shared pieces of the benchmark scripts: scratch databases, a live server, percentiles."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy.engine import make_url

POSTGRES = os.environ.get("CICLO_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _pg_admin(sql: str) -> None:
    import asyncpg

    url = make_url(POSTGRES)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, database=url.database)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A new empty database for one benchmark run, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ciclo-bench-") as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"ciclo_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def live_server(database_url: str, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`ciclo serve` in its own process; yields its base URL."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(Path(tempfile.gettempdir()) / f"ciclo-bench-server-{port}.log", "w")  # noqa: SIM115
    # The default log level: the servers measured write their one access line per request, as a
    # deployment with the default settings does.
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--database-url", database_url, *extra],
        # Benchmarks run in the explicit no-auth mode unless the caller's env says otherwise.
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "CICLO_AUTH": "off", **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited; see {log.name}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


async def lifecycle_queued(database_url: str) -> int:
    """Customers whose lifecycle pass the server still owes (queued by large batches)."""
    from db.session import make_engine
    from services.container import Services

    engine = make_engine(database_url)
    try:
        return await Services.build(engine).lifecycle.queued()
    finally:
        await engine.dispose()


def wait_until_drained(database_url: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while asyncio.run(lifecycle_queued(database_url)):
        if time.monotonic() > deadline:
            raise RuntimeError("the lifecycle queue did not drain")
        time.sleep(0.05)


def server_ms(response: httpx.Response) -> float:
    return float(response.headers["server-timing"].removeprefix("app;dur="))


def percentiles(values: list[float]) -> dict[str, float]:
    data = np.asarray(values)
    return {"p50": float(np.percentile(data, 50)), "p95": float(np.percentile(data, 95)),
            "p99": float(np.percentile(data, 99))}


def command_line() -> str:
    return "python " + " ".join([sys.argv[0], *sys.argv[1:]])
