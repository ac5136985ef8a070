"""Metrics, request logs and readiness through real servers."""

from __future__ import annotations

import asyncio
import json
import re
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from db.session import make_engine
from services.container import Services
from services.domain import CustomerDraft
from services.offers.values import DecisionPointDraft, LeverDraft, Policy
from tests.conftest import LiveServer, start_server, stop_server

DECIDE = """mutation($r: String) { decide(input: {decisionPoint: "RETENTION", externalId: "o-1", requestId: $r}) {
  __typename ... on Decision { id lever { key } } } }"""
RECORD = """mutation($id: ID!) { recordOutcome(input: {decisionId: $id, accepted: true}) { __typename } }"""


async def _prepare(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        services = Services.build(engine)
        await services.customers.upsert_many([CustomerDraft(external_id="o-1", name="Obs")])
        for key in ("DISCOUNT_10", "NO_ACTION"):
            await services.offers.catalog.upsert_lever(LeverDraft(key, key))
        await services.offers.catalog.configure(
            DecisionPointDraft("RETENTION", ("DISCOUNT_10", "NO_ACTION"), policy=Policy("EPSILON_GREEDY", seed=1))
        )
    finally:
        await engine.dispose()


def post(server: LiveServer, query: str, variables: dict | None = None) -> dict:
    response = httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables or {}},
                          headers={"x-request-id": "obs-test-1"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def samples(server: LiveServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{server.url}/metrics", timeout=30)
    assert response.status_code == 200
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "pid"))
            key = (sample.name, labels)
            # liveall gauges carry one sample per worker: keep the largest
            found[key] = max(found.get(key, float("-inf")), sample.value) if "pid" in sample.labels else sample.value
    return found


def total(found: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and all((k, v2) in ls for k, v2 in labels.items()))


def wait_for(check, seconds: float = 15):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.2)


def test_metrics_logs_and_readiness_on_two_workers(database_url: str) -> None:
    """Two workers (both databases): /metrics adds up what every worker counted; each request
    leaves one JSON log line; /readyz checks database, migrations and models."""
    asyncio.run(_prepare(database_url))
    server = start_server(database_url, "--workers", "2", timeout=180)
    try:
        # Each worker answers for itself (the body names it), and a fresh connection may reach
        # either one, with no promise of taking turns: wait until both workers have said ready.
        ready_workers: dict[int, dict] = {}

        def both_ready() -> bool:
            body = httpx.get(f"{server.url}/readyz", timeout=10).json()
            if body["status"] == "ready":
                ready_workers[body["worker"]] = body
            return len(ready_workers) >= 2

        wait_for(both_ready, 90)
        for worker, ready in ready_workers.items():
            assert ready == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "models": "ok"},
                             "worker": worker}
        assert set(ready_workers) <= {int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", server.log_text())}
        decided = 0
        for _ in range(30):
            # A fresh connection each time, so both workers take requests.
            with httpx.Client(timeout=30) as client:
                body = client.post(f"{server.url}/graphql", json={"query": DECIDE, "variables": {"r": None}}).json()
            assert body["data"]["decide"]["__typename"] == "Decision"
            decided += 1
        post(server, RECORD, {"id": body["data"]["decide"]["id"]})
        found = wait_for(lambda: (f := samples(server)) and total(f, "ciclo_model_outcomes_applied", decision_point="RETENTION") >= 1 and f)
        assert total(found, "ciclo_decisions_total", decision_point="RETENTION") == decided
        assert total(found, "ciclo_outcomes_total", accepted="true") == 1
        assert total(found, "ciclo_request_seconds_count", operation="mutation:decide") == decided
        assert total(found, "ciclo_model_config_version", decision_point="RETENTION") >= 1
        assert ("ciclo_learner_lag_outcomes", (("decision_point", "RETENTION"),)) in found
        assert any(name == "ciclo_db_pool_checked_out" for name, _ in found)
        # Every single call went through a coalescing batch, counted by each worker's sampler (every 2 s).
        found = wait_for(lambda: (f := samples(server)) and total(f, "ciclo_coalesced_calls_total", call="recordOutcome") >= 1
                         and total(f, "ciclo_coalesced_calls_total", call="decide") >= decided and f)
        assert total(found, "ciclo_coalesced_calls_total", call="decide") == decided
        assert 1 <= total(found, "ciclo_coalesced_batches_total", call="decide") <= decided
        assert total(found, "ciclo_coalesced_batches_total", call="recordOutcome") == 1
        log = server.log_text()
        pids = set(re.findall(r"Started server process \[(\d+)\]", log))
        assert len(pids) >= 2
        lines = [json.loads(line) for line in log.splitlines() if line.startswith("{") and '"ciclo.access"' in line]
        decides = [line for line in lines if line["operation"] == "mutation:decide"]
        assert len(decides) == decided
        assert {"request_id", "duration_ms", "role", "status", "errors"} <= set(decides[0])
        assert decides[0]["role"] == "ADMIN" and decides[0]["status"] == 200 and decides[0]["errors"] == 0
        assert any(line["request_id"] == "obs-test-1" and line["operation"] == "mutation:recordOutcome" for line in lines)
    finally:
        stop_server(server)


def test_log_level_warning_drops_the_access_lines(database_url: str) -> None:
    """`ciclo serve --log-level warning` is obeyed by Ciclo's own loggers too: the one-per-request
    access line is info, so none is written (the test above sees them at the default level)."""
    asyncio.run(_prepare(database_url))
    server = start_server(database_url, "--log-level", "warning")
    try:
        for _ in range(3):
            assert post(server, DECIDE, {"r": None})["decide"]["__typename"] == "Decision"
        assert total(samples(server), "ciclo_request_seconds_count", operation="mutation:decide") == 3
        assert '"ciclo.access"' not in server.log_text()
    finally:
        stop_server(server)


async def _stamp_old_revision(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0004' WHERE version_num = '0008'"))
    finally:
        await engine.dispose()


def test_readyz_names_the_check_that_fails(database_url: str) -> None:
    server = start_server(database_url)
    try:
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
        asyncio.run(_stamp_old_revision(database_url))
        response = httpx.get(f"{server.url}/readyz", timeout=10)
        assert response.status_code == 503
        assert response.json()["checks"]["migrations"].startswith("pending")
        assert response.json()["checks"]["database"] == "ok"
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        stop_server(server)
