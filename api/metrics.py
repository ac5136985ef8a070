"""Prometheus metrics, across every worker of `ciclo serve`.

With several workers, `ciclo serve` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory
before they start: each worker writes its samples there and ``/metrics``, whichever worker answers,
adds them up (prometheus-client's multiprocess mode). Without that variable (one worker) the
process's own registry is served. Gauges are sampled per worker every ``SAMPLE_SECONDS``; the
files of dead workers' live gauges are dropped when a sample sees their pid gone.
"""

from __future__ import annotations

import collections
import os
import re
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from starlette.requests import Request
from starlette.responses import Response

from api.metrics_dir import MULTIPROC_ENV
from db.periodic import Periodic
from services.container import Services
from services.offers.health import model_states
from services.offers.values import Decision, Outcome

SAMPLE_SECONDS = 2.0

REQUEST_SECONDS = Histogram(
    "ciclo_request_seconds", "GraphQL request latency at the server, by operation (type:first root field).",
    ["operation"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DECISIONS = Counter("ciclo_decisions", "Decisions served, by decision point and lever.", ["decision_point", "lever"])
OUTCOMES = Counter("ciclo_outcomes", "Outcomes recorded through the API, by accepted and late.", ["accepted", "late"])
LEARNER_LAG = Gauge(
    "ciclo_learner_lag_outcomes", "Outcomes in the log a worker's model has not applied yet.",
    ["decision_point"], multiprocess_mode="liveall",
)
MODEL_VERSION = Gauge(
    "ciclo_model_config_version", "Config version of the model a worker serves, per decision point.",
    ["decision_point"], multiprocess_mode="liveall",
)
MODEL_APPLIED = Gauge(
    "ciclo_model_outcomes_applied", "Outcomes applied to the model a worker serves, per decision point.",
    ["decision_point"], multiprocess_mode="liveall",
)
POOL_CHECKED_OUT = Gauge(
    "ciclo_db_pool_checked_out", "Database connections in use (summed over workers).", multiprocess_mode="livesum"
)
POOL_SIZE = Gauge("ciclo_db_pool_size", "Database pool size (summed over workers).", multiprocess_mode="livesum")
COALESCED_CALLS = Counter(
    "ciclo_coalesced_calls", "Single decide / recordOutcome calls answered by shared batches.", ["call"]
)
COALESCED_BATCHES = Counter(
    "ciclo_coalesced_batches", "Batches that answered them: calls / batches is the mean batch size.", ["call"]
)


_decided_children: dict[tuple[str, str], Any] = {}  # labels() per call took a lock and built a key


def decided(decision: Decision) -> None:
    key = (decision.decision_point, decision.lever)
    child = _decided_children.get(key)
    if child is None:
        child = _decided_children[key] = DECISIONS.labels(*key)
    child.inc()


def decided_many(decisions: Iterable[Decision]) -> None:
    """``decided`` for a batch: one increment per decision point and lever, not per decision."""
    counts = collections.Counter((d.decision_point, d.lever) for d in decisions)
    for key, count in counts.items():
        child = _decided_children.get(key)
        if child is None:
            child = _decided_children[key] = DECISIONS.labels(*key)
        child.inc(count)


def outcome_recorded(outcome: Outcome) -> None:
    OUTCOMES.labels(str(outcome.accepted).lower(), str(outcome.late).lower()).inc()


def _drop_dead_workers() -> None:
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        return
    pids = {int(m.group(1)) for name in os.listdir(folder) if (m := re.search(r"_(\d+)\.db$", name))}
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, folder)
        except PermissionError:
            pass


async def sample(services: Services) -> None:
    """Set this worker's gauges: pool usage, and per decision point model version and lag."""
    pool = services.engine.pool
    checked_out = getattr(pool, "checkedout", None)
    if checked_out is not None:
        POOL_CHECKED_OUT.set(checked_out())
        POOL_SIZE.set(getattr(pool, "size", lambda: 1)())
    for state in await model_states(services.offers.registry):
        LEARNER_LAG.labels(state.decision_point).set(state.lag)
        MODEL_VERSION.labels(state.decision_point).set(state.config_version)
        MODEL_APPLIED.labels(state.decision_point).set(state.outcomes_applied)
    _count_coalesced(services)
    _drop_dead_workers()


_counted: dict[str, tuple[int, int]] = {}


def _count_coalesced(services: Services) -> None:
    """Move the coalescers' running totals into the counters (by the change since the last sample)."""
    for call, coalescer in (("decide", services.offers.decisions.coalescer), ("recordOutcome", services.offers.outcomes.coalescer)):
        calls, batches = _counted.get(call, (0, 0))
        if coalescer.items < calls:  # a new coalescer (tests build several apps in one process)
            calls = batches = 0
        COALESCED_CALLS.labels(call).inc(coalescer.items - calls)
        COALESCED_BATCHES.labels(call).inc(coalescer.batches - batches)
        _counted[call] = (coalescer.items, coalescer.batches)


class Sampler:
    """Samples the gauges every SAMPLE_SECONDS in the background of one worker (a failed sample is
    retried; metrics never stop the server)."""

    def __init__(self, services: Services) -> None:
        self._loop = Periodic("metrics-sampler", lambda: sample(services), SAMPLE_SECONDS, wait_first=False)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()


async def metrics_endpoint(request: Request) -> Response:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = PROCESS_REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
