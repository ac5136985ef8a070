"""Offer benchmark over HTTP: each figure is printed next to its baseline from the same run.

(a) decide, 16 connections (wrk)          vs `{ __typename }` on the same server   target >= 50% throughput, p99 <= 25 ms
(b) recordOutcome, 16 connections (wrk)   same baseline                            same targets
(c) decideBatch over HTTP, 10,000 a call, decisions/s including logging            target >= 20,000/s
(d) learner: outcomes/s tailed from the log and applied, vs the engine Learner alone on the same records
                                                                                   target >= 10,000/s
(e) outcome recorded on one server -> a decision on another server reflects it, p95  target <= 2 s
    (PostgreSQL is the multi-worker deployment; on SQLite both processes share one file)
Engine compute per decision vs one raw MABWiser predict: python bench/bench_engine.py (figure (a) there).

Run: python bench/bench_offers.py [--backend sqlite|postgresql] [--duration 10] [--connections 16]
     python bench/bench_offers.py --only batch [--batches 6]   (figure (c) alone, no wrk needed)
Needs wrk (apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import command_line, live_server, percentiles, scratch_database, wait_until_drained  # noqa: E402

# The server's metrics sampler moves the coalescers' totals into /metrics this often (api.metrics).
SAMPLER_SECONDS = 2.5
LEVERS = ("DISCOUNT_10", "FREE_SHIPPING", "PERSONAL_CALL", "NO_ACTION")

LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  kind = args[1]; first = tonumber(args[2]); count = tonumber(args[3]); nthreads = tonumber(args[4])
end
request = function()
  local body
  if kind == "typename" then
    body = '{"query":"{ __typename }"}'
  elseif kind == "decide" then
    local c = math.random(0, count - 1)
    body = '{"query":"mutation($e: String!) { decide(input: {decisionPoint: \\"RETENTION\\", externalId: $e, context: {channel: \\"web\\"}}) { __typename ... on Decision { id propensity lever { key } } } }","variables":{"e":"bench-' .. c .. '"}}'
  else
    local id = first + tid + counter * nthreads
    counter = counter + 1
    body = '{"query":"mutation($id: ID!) { recordOutcome(input: {decisionId: $id, accepted: true, revenue: 20}) { __typename ... on Outcome { id } } }","variables":{"id":"' .. id .. '"}}'
  end
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, body)
end
"""


def gql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=300)
    payload = response.json()
    assert "errors" not in payload, payload
    return payload["data"]


def wrk(url: str, kind: str, seconds: int, connections: int, first: int = 0, count: int = 0) -> dict[str, float]:
    """Requests/s and latency percentiles from one wrk run (2 threads)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    threads = 2
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", script.name,
         f"{url}/graphql", "--", kind, str(first), str(count), str(threads)],
        capture_output=True, text=True, check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    found = {}
    for label in ("50%", "99%"):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        found[label] = float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rate, "p50": found["50%"], "p99": found["99%"], "non2xx": float(errors.group(1)) if errors else 0.0}


def coalesced(url: str) -> dict[str, tuple[float, float]]:
    """(calls, batches) so far per coalesced call, from /metrics (its sampler adds them up every 2 s)."""
    found: dict[str, list[float]] = {}
    for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        match = re.match(r'ciclo_coalesced_(calls|batches)_total\{call="(\w+)".*\} ([\d.e+]+)', line)
        if match:
            kind, call, value = match.groups()
            found.setdefault(call, [0.0, 0.0])[0 if kind == "calls" else 1] += float(value)
    return {call: (calls, batches) for call, (calls, batches) in found.items()}


def callers_per_batch(before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]], call: str) -> str:
    calls = after.get(call, (0.0, 0.0))[0] - before.get(call, (0.0, 0.0))[0]
    batches = after.get(call, (0.0, 0.0))[1] - before.get(call, (0.0, 0.0))[1]
    return f"{calls / batches:.1f} callers per coalesced batch" if batches else "no coalesced batch counted"


def seed(url: str, customers: int) -> None:
    rng = np.random.default_rng(1)
    tiers = ["LOW", "MID", "HIGH"]
    for start in range(0, customers, 5000):
        batch = [
            {"externalId": f"bench-{i}",
             "attributes": {"price_sensitive": bool(rng.random() < 0.35), "tier": tiers[int(rng.integers(0, 3))]}}
            for i in range(start, min(start + 5000, customers))
        ]
        gql(url, "mutation($c: [CustomerInput!]!) { upsertCustomers(input: $c) { accepted } }", {"c": batch})
    for key in LEVERS:
        gql(url, 'mutation($k: String!) { upsertLever(input: {key: $k, name: $k}) { __typename } }', {"k": key})
    gql(url, """mutation { configureDecisionPoint(input: {key: "RETENTION",
        levers: ["DISCOUNT_10", "FREE_SHIPPING", "PERSONAL_CALL", "NO_ACTION"],
        features: ["attributes.price_sensitive", "attributes.tier", "valueTier", "openAlerts", "context.channel"],
        contextExamples: [{channel: "web"}, {channel: "app"}], policy: {kind: LIN_TS, alpha: 0.5, seed: 1}})
        { __typename } }""")


def decide_batches(url: str, customers: int, batches: int) -> tuple[float, int, int]:
    """decisions/s over ``batches`` decideBatch calls of 10,000; returns (rate, first id, last id)."""
    query = """mutation($ids: [String!]!) { decideBatch(input: {decisionPoint: "RETENTION", externalIds: $ids,
        context: {channel: "web"}}) { ... on DecisionBatch { decisions { totalCount pageInfo { endCursor } edges { node { id } } } } } }"""
    ids_seen: list[int] = []
    started = time.perf_counter()
    for b in range(batches):
        ids = [f"bench-{(b * 10_000 + i) % customers}" for i in range(10_000)]
        result = gql(url, query, {"ids": ids})["decideBatch"]["decisions"]
        assert result["totalCount"] == 10_000
        ids_seen.extend(int(e["node"]["id"]) for e in result["edges"])
    seconds = time.perf_counter() - started
    return batches * 10_000 / seconds, min(ids_seen), max(ids_seen)


async def learner_rate(database_url: str) -> tuple[float, float, int]:
    """A fresh registry replaying the whole log (snapshots removed) vs the engine Learner alone."""
    from sqlalchemy import delete

    from db.models import ModelSnapshot
    from db.repositories import outcomes as outcome_repo
    from db.session import make_engine, make_sessionmaker
    from engine import Learner, OutcomeRecord
    from services.offers import mapping
    from services.offers.registry import ModelRegistry, template_model
    from db.repositories import offers as repo

    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions.begin() as session:
            await session.execute(delete(ModelSnapshot))
            point = mapping.decision_point(await repo.decision_point(session, "RETENTION"))
            rows = await outcome_repo.tail(session, point.id, point.version, 0, 10**9)
        records = [OutcomeRecord(r[0], r[1], float(r[2]), tuple(r[3])) for r in rows]
        registry = ModelRegistry(sessions, snapshot_every=10**12)
        started = time.perf_counter()
        await registry.refresh()
        through_db = time.perf_counter() - started
        applied = registry.loaded(point.id).learner.outcomes_applied
        learner = Learner(template_model(point), batch_size=1000)
        started = time.perf_counter()
        for s in range(0, len(records), 5000):
            learner.submit(records[s : s + 5000])
            learner.flush()
        alone = time.perf_counter() - started
        return applied / through_db, len(records) / alone, applied
    finally:
        await engine.dispose()


def record_bulk(url: str, first: int, last: int) -> None:
    query = "mutation($o: [OutcomeInput!]!) { recordOutcomes(input: $o) { ... on RecordOutcomesPayload { errors { index } } } }"
    for start in range(first, last + 1, 5000):
        items = [{"decisionId": str(i), "accepted": bool(i % 5 == 0), "revenue": 20.0}
                 for i in range(start, min(start + 5000, last + 1))]
        gql(url, query, {"o": items})


def propagation(url_a: str, url_b: str, samples: int, first_id: int) -> list[float]:
    """Seconds from recordOutcome on A until B serves a decision with a larger model version."""
    decide = """mutation($e: String!) { decide(input: {decisionPoint: "RETENTION", externalId: $e, candidates: ["PERSONAL_CALL"]})
        { ... on Decision { id modelVersion } } }"""
    record = "mutation($id: ID!) { recordOutcome(input: {decisionId: $id, accepted: true}) { __typename } }"
    times = []
    for i in range(samples):
        before = gql(url_b, decide, {"e": f"bench-{i}"})["decide"]["modelVersion"]
        fresh = gql(url_a, decide, {"e": f"bench-{i}"})["decide"]["id"]
        started = time.perf_counter()
        gql(url_a, record, {"id": fresh})
        while gql(url_b, decide, {"e": f"bench-{i}"})["decide"]["modelVersion"] <= before:
            if time.perf_counter() - started > 10:
                raise RuntimeError("no propagation within 10 s")
            time.sleep(0.01)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batches", type=int, default=6, help="decideBatch calls of 10,000")
    parser.add_argument("--propagation-samples", type=int, default=20)
    parser.add_argument("--only", choices=("batch",), help="seed and measure figure (c) alone")
    args = parser.parse_args()
    if args.only == "batch":
        with scratch_database(args.backend) as database_url, live_server(database_url) as url:
            seed(url, args.customers)
            wait_until_drained(database_url)
            rate, _, _ = decide_batches(url, args.customers, args.batches)
            print(f"(c) decideBatch: {rate:10,.0f} decisions/s over HTTP incl. logging  "
                  f"({rate / 20_000:.2f}x the 20,000/s target)  [{command_line()}]")
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    command = command_line()
    with scratch_database(args.backend) as database_url:
        with live_server(database_url) as url:
            measure_http(url, database_url, args, command)
        through_db, alone, applied = asyncio.run(learner_rate(database_url))
        print(f"(d) learner: {through_db:10,.0f} outcomes/s tailed from the log and applied ({applied:,} outcomes) "
              f"vs engine Learner alone {alone:10,.0f}/s -> {alone / through_db:.2f}x the engine time  "
              f"(target >= 10,000/s)")


def measure_http(url: str, database_url: str, args: argparse.Namespace, command: str) -> None:
    if True:
        seed(url, args.customers)
        # The seeded customers' lifecycle pass runs in the server's background: let it finish, so
        # the figures below measure the offer path alone.
        wait_until_drained(database_url)
        print(f"offer benchmark  backend={args.backend}  customers={args.customers:,}  one worker  "
              f"wrk {args.connections} connections x {args.duration}s   [{command}]")
        rate, first, last = decide_batches(url, args.customers, args.batches)
        print(f"(c) decideBatch: {rate:10,.0f} decisions/s over HTTP incl. logging  "
              f"({rate / 20_000:.2f}x the 20,000/s target)")
        base = wrk(url, "typename", args.duration, args.connections)
        print(f"    baseline {{ __typename }}: {base['rps']:8,.0f} req/s  p50 {base['p50']:.2f} ms  p99 {base['p99']:.2f} ms")
        counted = coalesced(url)
        decided = wrk(url, "decide", args.duration, args.connections, count=args.customers)
        time.sleep(SAMPLER_SECONDS)
        after_decide = coalesced(url)
        print(f"(a) decide:        {decided['rps']:8,.0f} req/s = {decided['rps'] / base['rps']:.0%} of baseline  "
              f"p50 {decided['p50']:.2f} ms  p99 {decided['p99']:.2f} ms  non-2xx {decided['non2xx']:.0f}  "
              f"(targets >= 50%, p99 <= 25 ms); {callers_per_batch(counted, after_decide, 'decide')}")
        recorded = wrk(url, "record", args.duration, args.connections, first=first, count=last - first + 1)
        time.sleep(SAMPLER_SECONDS)
        print(f"(b) recordOutcome: {recorded['rps']:8,.0f} req/s = {recorded['rps'] / base['rps']:.0%} of baseline  "
              f"p50 {recorded['p50']:.2f} ms  p99 {recorded['p99']:.2f} ms  non-2xx {recorded['non2xx']:.0f}  "
              f"(targets >= 50%, p99 <= 25 ms); {callers_per_batch(after_decide, coalesced(url), 'recordOutcome')}")
        record_bulk(url, first, last)  # the rest of the batch decisions get outcomes too (retries are no-ops)
        with live_server(database_url) as other:
            times = propagation(url, other, args.propagation_samples, first)
        stats = percentiles([t * 1000 for t in times])
        print(f"(e) cross-server propagation over {len(times)} outcomes: p50 {stats['p50']:.0f} ms  "
              f"p95 {stats['p95']:.0f} ms  max {max(times) * 1000:.0f} ms  (target p95 <= 2,000 ms; "
              f"the tail polls every 200 ms)")


if __name__ == "__main__":
    main()
