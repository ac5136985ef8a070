"""Shared fixtures: an isolated database per test on SQLite and PostgreSQL, services, a GraphQL caller.

PostgreSQL comes from CICLO_TEST_POSTGRES_URL (default: the local server). When no server answers
the PostgreSQL variants are skipped with the reason, unless CICLO_REQUIRE_POSTGRES=1, which turns
the skip into a failure (CI sets it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from api.context import Context
from api.loaders import Loaders
from api.permissions import Role
from api.schema import CicloSchema, build_schema
from db import migrate
from db.session import make_engine
from services.container import Services
from services.domain import CustomerDraft

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def postgres_base_url() -> str:
    return os.environ.get("CICLO_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


def _require_postgres() -> bool:
    return os.environ.get("CICLO_REQUIRE_POSTGRES", "") not in ("", "0", "false")


async def _admin(sql: str) -> None:
    import asyncpg

    url = make_url(postgres_base_url())
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        database=url.database, timeout=5,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def _db_url(name: str) -> str:
    return make_url(postgres_base_url()).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    name = f"ciclo_tpl_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "no PostgreSQL"
        reason = f"PostgreSQL at {postgres_base_url()} is not reachable ({exc!r}); set CICLO_TEST_POSTGRES_URL"
        if _require_postgres():
            pytest.fail(f"CICLO_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    try:
        asyncio.run(_migrate(_db_url(name)))
        yield name
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def scratch_database(request: pytest.FixtureRequest, tmp_path: Path, backend: str, name: str = "ciclo") -> Iterator[str]:
    """A freshly migrated, empty database on ``backend``, dropped afterwards."""
    if backend == "sqlite":
        path = tmp_path / f"{name}.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    database = f"{name}_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{database}" TEMPLATE "{template}"'))
    try:
        yield _db_url(database)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database that belongs to this test alone."""
    with scratch_database(request, tmp_path, request.param) as url:
        yield url


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    engine = make_engine(database_url, pool_size=5)
    try:
        yield Services.build(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def statements(services: Services) -> Iterator[list[str]]:
    """Every SQL statement the services send while the test runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(services.engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(services.engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture(scope="session")
def schema() -> CicloSchema:
    return build_schema()


@dataclass
class GraphQLResult:
    data: dict[str, Any] | None
    errors: list[Any] | None


GQL = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def gql(schema: CicloSchema, services: Services) -> GQL:
    """Run an operation against the real schema and services; fail the test on GraphQL errors.

    The caller acts as ADMIN unless ``role=`` says otherwise."""

    async def run(
        query: str, variables: dict[str, Any] | None = None, *, expect_errors: bool = False, role: Role = Role.ADMIN
    ) -> Any:
        context = Context(services=services, loaders=Loaders.build(services), request_id="test", role=role)
        result = await schema.execute(query, variable_values=variables, context_value=context)
        if expect_errors:
            assert result.errors, f"expected errors, got data {result.data}"
            return GraphQLResult(result.data, result.errors)
        assert not result.errors, result.errors
        assert result.data is not None
        return result.data

    return run


@pytest.fixture
def make_customer(services: Services) -> Callable[..., Awaitable[int]]:
    """Create a customer through the real service; returns its id."""
    counter = iter(range(1, 10**9))

    async def make(**overrides: Any) -> int:
        fields: dict[str, Any] = {"external_id": f"c-{next(counter)}", "name": "Ana Pérez", "email": "ana@example.com"}
        fields.update(overrides)
        result = await services.customers.upsert_many([CustomerDraft(**fields)])
        assert not result.errors, result.errors
        return (await services.customers.get_by_external_id(fields["external_id"])).id

    return make


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    database_url: str
    process: Any
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _security_env(auth: bool) -> dict[str, str]:
    if auth:
        return {"CICLO_AUTH": "on", "CICLO_ENV": "production"}
    return {"CICLO_AUTH": "off", "CICLO_ENV": "development"}


def start_server(
    database_url: str, *extra: str, env: dict[str, str] | None = None, timeout: float = 180, auth: bool = False
) -> LiveServer:
    """Run `ciclo serve` as a real process and wait until it answers /healthz.

    Without ``auth=True`` the server runs in the explicit no-auth development mode (CICLO_AUTH=off,
    CICLO_ENV=development): every caller is ADMIN. With it, the server runs as in production and
    needs API keys (create them in the database first)."""
    import subprocess
    import sys
    import time

    import httpx

    import tempfile

    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="ciclo-server-")) / "server.log"
    # A file, not a pipe: a long run must never block on a full pipe buffer.
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--database-url", database_url, *extra],
            env={**os.environ, **_security_env(auth), **(env or {})},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(url, database_url, process, log)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not answer /healthz in time")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except Exception:  # noqa: BLE001
        server.process.kill()


@pytest.fixture
def live_server(database_url: str) -> Iterator[LiveServer]:
    server = start_server(database_url)
    try:
        yield server
    finally:
        stop_server(server)
