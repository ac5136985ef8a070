"""The Starlette application: GraphQL at /graphql (behind API keys), /healthz, /readyz, /metrics, lifecycle in lifespan."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types.unset import UNSET, UnsetType

from api import dashboard
from api import logs, metrics
from api.auth import AuthGate
from api.collector_pause import CollectorPause
from api.context import Context
from api.health import healthz, readyz
from api.http_limits import BodySizeLimit, RequestTimeout
from api.lifecycle_runtime import LifecycleRuntime
from api.loaders import Loaders
from api.request_id import RequestIdMiddleware
from api.request_log import RequestLog
from api.schema import CicloSchema, build_schema
from api.socket_auth import KeyCheckedGraphQLWS, KeyCheckedTransportWS, authenticate_connection
from api.settings import Settings
from api.timing import ServerTimingMiddleware
from db import migrate
from db.checkpoint import WalCheckpointer
from db.session import make_engine, make_writer_engine
from services.container import Services
from services.reports.rollup import DEFAULT_INTERVAL as DEFAULT_ROLLUP_SECONDS
from services.reports.rollup import RollupRefresher

log = logging.getLogger("ciclo")


class CicloGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: CicloSchema, app: Starlette, *, ide: bool, auth: bool) -> None:
        # A socket that has not sent its connection_init (and so its key) is closed after 10 s
        # (4408) instead of Strawberry's minute.
        super().__init__(schema, graphql_ide="graphiql" if ide else None, connection_init_wait_timeout=timedelta(seconds=10))
        self._app = app
        self._auth = auth
        self.collector_pause = CollectorPause()
        if auth:
            self.graphql_transport_ws_handler_class = KeyCheckedTransportWS
            self.graphql_ws_handler_class = KeyCheckedGraphQLWS

    def decode_json(self, data: str | bytes) -> object:
        # orjson: the standard library's parser was a noticeable share of a small request;
        # what orjson refuses (integers past 64 bits, NaN) still gets the standard parser's answer.
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return json.loads(data)

    def encode_json(self, data: object) -> bytes:
        try:
            return orjson.dumps(data)
        except TypeError:  # an integer past 64 bits in a JSON scalar
            return json.dumps(data, separators=(",", ":")).encode()

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services: Services = self._app.state.services
        state = request.state
        request_id = getattr(state, "request_id", "-")
        # api.auth put the key's role here; without one no permission class lets anything through.
        role = getattr(state, "role", None)
        context = Context(
            services=services, loaders=Loaders.build(services), request_id=request_id, role=role,
            trace=getattr(state, "trace", None), api_key=getattr(state, "api_key", None),
            # HTTP only: a socket's context lives as long as the socket, and so would its hold.
            collector=self.collector_pause if isinstance(request, Request) else None,
        )
        # A large body is a bulk call (10,000 ids, 1,000 events...): its input values alone are tens
        # of thousands of objects, so the collector pauses before the body is parsed (Strawberry
        # asks for the context first).
        if isinstance(request, Request) and int(request.headers.get("content-length") or 0) >= LARGE_BODY_BYTES:
            context.pause_collector()
        state.graphql_context = context
        return context

    async def run(self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        finally:
            # The response is encoded and the result tree gone: the request's collector pause ends.
            held: Context | None = getattr(request.state, "graphql_context", None)
            if held is not None:
                held.resume_collector()

    async def on_ws_connect(self, context: Context) -> UnsetType:
        await authenticate_connection(context, enabled=self._auth)
        return UNSET


class NoApiKeys(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "authentication is on but no API key exists: create one with "
            "`ciclo keys create --role ADMIN --name ops`, or start with --insecure-no-auth (CICLO_AUTH=off) "
            "to serve without authentication"
        )


GC_YOUNG_THRESHOLD = 20_000
# Request bodies from this size on pause the cyclic collector while they are answered.
LARGE_BODY_BYTES = 64 * 1024


async def _dispose(*engines: AsyncEngine | None) -> None:
    """Close the engines a server owns (the read and writer engines may be absent)."""
    for owned in engines:
        if owned is not None:
            await owned.dispose()


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app. The database is opened, migrated and (with demo on) seeded at startup."""
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)
    schema = build_schema(introspection=not settings.production)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, pool_size=settings.pool_size)
        read_engine = (
            make_engine(settings.read_database_url, pool_size=settings.pool_size)
            if settings.read_database_url else None
        )
        if settings.migrate:
            await migrate.upgrade(engine)
        write_engine = make_writer_engine(settings.database_url)
        # The pid seeds this worker's offer random streams: two workers never share one.
        services = Services.build(engine, worker=os.getpid(), read_engine=read_engine, write_engine=write_engine)
        if settings.auth and not await services.keys.count_active():
            await _dispose(engine, read_engine, write_engine)
            raise NoApiKeys()
        if read_engine is not None:
            log.info("reports and evaluations read from %s", read_engine.url.render_as_string(hide_password=True))
        if not settings.auth:
            log.warning("authentication is OFF: every caller acts as ADMIN (CICLO_AUTH=off)")
        if settings.demo:
            from services.demo import load_demo_if_empty

            await load_demo_if_empty(services, customers=settings.demo_customers, seed=settings.demo_seed)
        app.state.services = services
        checkpointer = WalCheckpointer(engine)
        checkpointer.start()
        services.offers.start()
        lifecycle = LifecycleRuntime(services, settings.database_url)
        await lifecycle.start()
        sampler = metrics.Sampler(services)
        sampler.start()
        rollup_seconds = float(os.environ.get("CICLO_ROLLUP_SECONDS", DEFAULT_ROLLUP_SECONDS))
        rollup = RollupRefresher(services.lever_rollup, rollup_seconds if rollup_seconds > 0 else DEFAULT_ROLLUP_SECONDS)
        if rollup_seconds > 0:
            rollup.start()
        # Everything built at startup lives for the whole process: keep it out of the
        # collector's way, which shortens the pauses behind tail latencies.
        gc.collect()
        gc.freeze()
        # A page of 50 customers keeps a few thousand objects alive until it is answered, which
        # at the default threshold (700) ran three young collections a page and an older one
        # every few pages: 20,000 cut the page's mean by about 1 ms and its p95 by 1.3 ms.
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        try:
            yield
        finally:
            await sampler.stop()
            await rollup.stop()
            await services.offers.stop()
            await lifecycle.stop()
            await checkpointer.stop()
            await _dispose(engine, read_engine, write_engine)

    app = Starlette(lifespan=lifespan)
    view = CicloGraphQL(schema, app, ide=not settings.production, auth=settings.auth)
    graphql = AuthGate(view, enabled=settings.auth)
    app.router.routes.extend(
        [
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            *dashboard.routes(),
            Route("/readyz", readyz),
            Route("/metrics", metrics.metrics_endpoint),
        ]
    )
    app.add_middleware(RequestTimeout, seconds=settings.request_timeout_seconds)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLog)
    app.add_middleware(ServerTimingMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.state.schema = schema
    app.state.collector_pause = view.collector_pause
    return app
