"""One JSON log line and one latency sample per GraphQL request.

The middleware times the request and, when it is done, logs request id, operation, duration,
role, HTTP status and GraphQL error count through the `ciclo.access` logger, and observes the
latency histogram. The operation label is ``query:customers`` (type and first root field, ``+``
when there are more), so it stays bounded whatever operation names clients send; the client's
operation name is logged as ``operation_name``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import DocumentNode, FieldNode, OperationDefinitionNode
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from api.metrics import REQUEST_SECONDS

access = logging.getLogger("ciclo.access")


@dataclass(slots=True)
class RequestTrace:
    operation: str = "none"
    operation_name: str | None = None
    errors: int = 0


def operation_label(document: DocumentNode, name: str | None) -> str:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next((o for o in operations if name and o.name and o.name.value == name), operations[0] if operations else None)
    if chosen is None:
        return "none"
    fields = [s.name.value for s in chosen.selection_set.selections if isinstance(s, FieldNode)]
    first = next((f for f in fields if f != "__typename"), fields[0] if fields else "fragment")
    return f"{chosen.operation.value}:{first}{'+' if len(fields) > 1 else ''}"


class OperationTrace(SchemaExtension):
    """Tells the request's trace which operation ran and how many errors it returned."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        trace = getattr(context.context, "trace", None)
        if trace is None:
            return
        if context.graphql_document is not None:
            trace.operation = operation_label(context.graphql_document, context.operation_name)
        else:
            trace.operation = "unparsable"
        trace.operation_name = context.operation_name
        result = context.result
        trace.errors = len(result.errors or ()) if result is not None else len(context.pre_execution_errors or ())


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/graphql"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        trace = state["trace"] = RequestTrace()
        status = 500
        started = time.perf_counter()

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            took = time.perf_counter() - started
            if status in (401, 413, 504) and trace.operation == "none":
                trace.operation = {401: "unauthenticated", 413: "too_large", 504: "timeout"}[status]
            REQUEST_SECONDS.labels(trace.operation).observe(took)
            role = state.get("role")
            access.info("request", extra={
                "request_id": state.get("request_id", "-"),
                "operation": trace.operation,
                "operation_name": trace.operation_name,
                "duration_ms": round(took * 1000, 3),
                "role": role.value if role is not None else None,
                "key": state.get("key_name"),
                "status": status,
                "errors": trace.errors,
            })
