"""Foundation benchmarks (issue 2), each figure printed next to the command that produced it.

1. `customers(first: 50, filter: {stage: GROWTH})` with segments and the 5 latest events, over a
   real server on 100,000 customers and 1,000,000 events: p95 measured at the server
   (Server-Timing), with the trivial `{ __typename }` query as the same-run baseline.
2. `recordEvents` in batches of 1,000 over HTTP, against the raw repository insert of the same
   rows as baseline: 40 batches from 1 and from 4 clients (the lifecycle pass queued for the
   drainer, which waits for a pause or its 5 s lag budget), then 4 clients for 20 s with the
   drainer taking its turns, and how long its pass takes to catch up; then the same 20 s with
   the pass deferred past the window, for what the intake path alone sustains.
3. `ciclo demo-data --customers 100000` wall time, against a bare bulk insert of as many rows.

Usage: python bench/bench_foundation.py [--backend sqlite|postgresql|both] [--customers N] [--events N]
       [--batches N] [--clients N] [--sustained-seconds S] [--no-recompute]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.lifecycle_runtime import MAX_LAG_ENV  # noqa: E402
from bench.common import command_line, lifecycle_queued, live_server, percentiles, scratch_database, server_ms, wait_until_drained  # noqa: E402
from db import migrate  # noqa: E402
from db.models import Customer, Event, Segment, SegmentMember  # noqa: E402
from db.repositories import events as event_repo  # noqa: E402
from db.session import make_engine, make_sessionmaker  # noqa: E402

STAGES = ["AWARENESS", "ACQUISITION", "CONVERSION", "GROWTH", "RETENTION", "CHURNED", "REACTIVATED"]
STAGE_SHARE = [0.08, 0.12, 0.15, 0.25, 0.2, 0.15, 0.05]
TYPES = ["PURCHASE", "COMPLAINT", "SURVEY", "CONTACT", "SIGNUP"]
TYPE_SHARE = [0.6, 0.05, 0.1, 0.2, 0.05]
NOW = datetime(2026, 11, 1, tzinfo=UTC)

PAGE_QUERY = """query Page($after: String) {
  customers(first: 50, after: $after, filter: {stage: GROWTH}) {
    edges { node { externalId stage segments { key name } events(first: 5) { edges { node { type amount occurredAt } } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
RECORD = """mutation Record($input: [EventInput!]!) { recordEvents(input: $input) { accepted duplicates errors { index field message } } }"""


async def load(url: str, customers: int, events: int, seed: int = 1) -> float:
    """Bulk-load a synthetic portfolio straight through the models; returns seconds."""
    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    await migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    started = time.perf_counter()
    created = NOW - timedelta(days=730) + timedelta(seconds=1) * rng.integers(0, 730 * 86400, customers)
    stages = rng.choice(STAGES, size=customers, p=STAGE_SHARE)
    async with sessions.begin() as session:
        for lo in range(0, customers, 10_000):
            rows = [
                {"id": i + 1, "external_id": f"cust-{i}", "name": f"Cliente {i}", "email": f"c{i}@example.com",
                 "attributes": {"age": int(20 + i % 50)}, "acquisition_channel": "WORD_OF_MOUTH",
                 "stage": str(stages[i]), "stage_changed_at": created[i], "created_at": created[i],
                 "updated_at": created[i]}
                for i in range(lo, min(lo + 10_000, customers))
            ]
            await session.execute(insert(Customer.__table__), rows)
        await session.execute(insert(Segment.__table__), [{"id": k + 1, "key": f"seg-{k}", "name": f"Segment {k}"} for k in range(5)])
        members = rng.random((customers, 5)) < 0.3
        pairs = [{"segment_id": int(k) + 1, "customer_id": int(c) + 1} for c, k in zip(*np.nonzero(members))]
        for lo in range(0, len(pairs), 20_000):
            await session.execute(insert(SegmentMember.__table__), pairs[lo : lo + 20_000])
    owners = rng.integers(1, customers + 1, events)
    kinds = rng.choice(TYPES, size=events, p=TYPE_SHARE)
    offsets = rng.integers(0, 730 * 86400, events)
    amounts = np.round(rng.lognormal(3.5, 0.6, events), 2)
    for lo in range(0, events, 50_000):
        async with sessions.begin() as session:
            rows = []
            for i in range(lo, min(lo + 50_000, events)):
                kind = str(kinds[i])
                rows.append({
                    "customer_id": int(owners[i]), "type": kind,
                    "occurred_at": NOW - timedelta(seconds=int(offsets[i])), "recorded_at": NOW,
                    "amount": float(amounts[i]) if kind == "PURCHASE" else None,
                    "currency": "EUR" if kind == "PURCHASE" else None,
                    "score": int(offsets[i] % 11) if kind == "SURVEY" else None, "payload": {},
                })
            await session.execute(insert(Event.__table__), rows)
    # Fresh statistics, as an operator runs after any bulk import: without them PostgreSQL
    # planned the timeline query as a scan.
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
    took = time.perf_counter() - started
    await engine.dispose()
    return took


async def place_loaded(url: str) -> float:
    """The lifecycle recompute an operator runs after a bulk import (`ciclo lifecycle recompute`):
    stages, stored facts and alerts from the loaded timelines. Without it every customer's first
    event batch would derive their facts from the whole timeline. Returns seconds."""
    from services.container import Services

    engine = make_engine(url)
    started = time.perf_counter()
    await Services.build(engine).lifecycle.recompute(scores_too=False)
    took = time.perf_counter() - started
    await engine.dispose()
    return took


def page_latency(url: str, requests: int) -> tuple[dict[str, float], dict[str, float]]:
    baseline: list[float] = []
    page: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(20):  # warm caches and connections
            client.post("/graphql", json={"query": "{ __typename }"})
            client.post("/graphql", json={"query": PAGE_QUERY, "variables": {"after": None}})
        after = None
        for _ in range(requests):
            baseline.append(server_ms(client.post("/graphql", json={"query": "{ __typename }"})))
            response = client.post("/graphql", json={"query": PAGE_QUERY, "variables": {"after": after}})
            body = response.json()
            assert "errors" not in body, body
            info = body["data"]["customers"]["pageInfo"]
            assert 0 < len(body["data"]["customers"]["edges"]) <= 50
            after = info["endCursor"] if info["hasNextPage"] else None
            page.append(server_ms(response))
    return percentiles(baseline), percentiles(page)


def event_batches(customers: int, batches: int, seed: int) -> list[list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    out = []
    for b in range(batches):
        owners = rng.integers(0, customers, 1000)
        out.append([
            {"externalId": f"cust-{int(o)}", "type": "PURCHASE", "occurredAt": (NOW - timedelta(minutes=int(j))).isoformat(),
             "amount": float(round(rng.lognormal(3.5, 0.6), 2)), "currency": "EUR", "idempotencyKey": f"bench-{seed}-{b}-{j}"}
            for j, o in enumerate(owners)
        ])
    return out


JSON_HEADERS = {"content-type": "application/json"}


def record_bodies(customers: int, batches: int, seed: int) -> list[bytes]:
    """recordEvents request bodies, encoded before any clock starts, as wrk sends prepared ones:
    the client's own JSON encoding (about 1.1 ms a batch) is not the server's time."""
    return [json.dumps({"query": RECORD, "variables": {"input": batch}}).encode() for batch in event_batches(customers, batches, seed=seed)]


def record_throughput(url: str, database_url: str, customers: int, batches: int, clients: int, seed: int) -> tuple[float, float]:
    """Events/s over ``batches`` batches of 1,000 sent by ``clients`` concurrent clients: as accepted,
    and until the server's drainer has applied their lifecycle pass as well."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = record_bodies(customers, batches, seed)
    with httpx.Client(base_url=url, timeout=60) as client:
        warm = client.post("/graphql", json={"query": RECORD, "variables": {"input": event_batches(customers, 1, seed=seed + 1)[0]}})
        assert warm.json()["data"]["recordEvents"]["accepted"] == 1000, warm.text
    wait_until_drained(database_url)

    def send(share: list[bytes]) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for body in share:
                result = client.post("/graphql", content=body, headers=JSON_HEADERS).json()
                assert result["data"]["recordEvents"]["accepted"] == 1000, result

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, [bodies[i::clients] for i in range(clients)]))
    accepted = time.perf_counter() - started
    wait_until_drained(database_url)
    applied = time.perf_counter() - started
    return batches * 1000 / accepted, batches * 1000 / applied


def record_sustained(url: str, database_url: str, customers: int, seconds: float, clients: int, seed: int) -> tuple[float, int, float]:
    """``clients`` clients send batches of 1,000 for ``seconds`` with the server's lifecycle drainer
    at its defaults, i.e. taking its turns once a queued batch has waited its lag budget. Returns
    (events/s accepted over the window, customers still queued for the lifecycle pass at its end,
    events/s until that pass had caught up)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    # Enough prepared bodies for 40,000 events/s; a client that runs out stops early.
    bodies = record_bodies(customers, int(40 * seconds), seed)
    wait_until_drained(database_url)
    sent = [0] * clients
    stop = threading.Event()

    def send(k: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for body in bodies[k::clients]:
                if stop.is_set():
                    return
                result = client.post("/graphql", content=body, headers=JSON_HEADERS).json()
                assert result["data"]["recordEvents"]["accepted"] == 1000, result
                sent[k] += 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        running = [pool.submit(send, k) for k in range(clients)]
        time.sleep(seconds)
        stop.set()
        for future in running:
            future.result()
    window = time.perf_counter() - started
    backlog = asyncio.run(lifecycle_queued(database_url))
    wait_until_drained(database_url)
    applied = time.perf_counter() - started
    return sum(sent) / window, backlog, sum(sent) / applied


async def raw_insert_throughput(url: str, customers: int, batches: int) -> float:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    rng = np.random.default_rng(5)
    rows = [[{"customer_id": int(o) + 1, "type": "PURCHASE", "occurred_at": NOW, "recorded_at": NOW,
              "amount": 10.0, "currency": "EUR", "payload": {}, "idempotency_key": f"raw-{b}-{j}"}
             for j, o in enumerate(rng.integers(0, customers, 1000))] for b in range(batches)]
    started = time.perf_counter()
    for batch in rows:
        async with sessions.begin() as session:
            await event_repo.insert_many(session, batch)
    took = time.perf_counter() - started
    await engine.dispose()
    return batches * 1000 / took


def demo_data_seconds(backend: str, customers: int) -> float | None:
    if not Path(__file__).resolve().parents[1].joinpath("services", "demo.py").exists():
        return None
    with scratch_database(backend) as url:
        subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade", "--database-url", url], check=True,
                       capture_output=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "api.cli", "demo-data", "--customers", str(customers), "--seed", "7",
                        "--database-url", url], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started


def run(backend: str, args: argparse.Namespace) -> None:
    print(f"\n== {backend}: {args.customers:,} customers, {args.events:,} events ==")
    with scratch_database(backend) as url:
        loaded = asyncio.run(load(url, args.customers, args.events))
        print(f"bulk load: {loaded:.1f} s")
        if not args.no_recompute:
            print(f"lifecycle recompute of the loaded portfolio: {asyncio.run(place_loaded(url)):.1f} s")
        with live_server(url) as server:
            base, page = page_latency(server, args.requests)
            print(f"customers(first:50, stage GROWTH) + segments + 5 latest events, server-side over {args.requests} requests:")
            print(f"  p50 {page['p50']:.2f} ms, p95 {page['p95']:.2f} ms, p99 {page['p99']:.2f} ms  (target p95 <= 30 ms)")
            print(f"  baseline {{ __typename }}: p50 {base['p50']:.2f} ms, p95 {base['p95']:.2f} ms; "
                  f"ratio p95 page/baseline = {page['p95'] / base['p95']:.1f}x")
            rates = {n: record_throughput(server, url, args.customers, args.batches, n, seed=11 + n) for n in (1, args.clients)}
            sustained = (
                record_sustained(server, url, args.customers, args.sustained_seconds, args.clients, seed=31)
                if args.sustained_seconds else None
            )
        # The same sustained run with the lifecycle pass deferred past the window: what the intake
        # path alone sustains, and so how much of the figure above the passes take.
        deferred_lag = 10 * args.sustained_seconds
        deferred = None
        if args.sustained_seconds:
            with live_server(url, env={MAX_LAG_ENV: str(deferred_lag)}) as server:
                deferred = record_sustained(server, url, args.customers, args.sustained_seconds, args.clients, seed=37)
        raw = asyncio.run(raw_insert_throughput(url, args.customers, args.batches))
        for clients, (rate, applied) in rates.items():
            print(f"recordEvents over HTTP, {args.batches} batches of 1,000, {clients} client(s): {rate:,.0f} events/s "
                  f"(target >= 20,000); ratio to raw insert = {rate / raw:.2f}")
            print(f"  and their lifecycle pass applied by the server's drainer too: {applied:,.0f} events/s")
        print(f"  baseline: raw repository insert of the same batches, one stream: {raw:,.0f} events/s")
        if sustained is not None:
            rate, backlog, applied = sustained
            print(f"recordEvents sustained for {args.sustained_seconds:.0f} s, {args.clients} clients, the lifecycle drainer taking its "
                  f"turns: {rate:,.0f} events/s (target >= 20,000); {backlog:,} customers still queued for the lifecycle "
                  f"pass at the end; {applied:,.0f} events/s until it caught up")
        if deferred is not None:
            rate, backlog, applied = deferred
            print(f"  the same with the lifecycle pass deferred past the window ({MAX_LAG_ENV}={deferred_lag:.0f}): "
                  f"{rate:,.0f} events/s accepted; {backlog:,} customers queued at the end; {applied:,.0f} events/s "
                  f"until the pass caught up")
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.demo_customers:
        seconds = demo_data_seconds(backend, args.demo_customers)
        if seconds is None:
            print("demo-data: services/demo.py not present, skipped")
        else:
            print(f"ciclo demo-data --customers {args.demo_customers:,}: {seconds:.1f} s (target <= 60 s); "
                  f"ratio to the bulk load above = {seconds / loaded:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--demo-customers", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent recordEvents clients")
    parser.add_argument("--sustained-seconds", type=float, default=20,
                        help="length of the sustained recordEvents run (0 skips it)")
    parser.add_argument("--no-recompute", action="store_true",
                        help="skip the lifecycle recompute after the bulk load (customers without stored facts)")
    args = parser.parse_args()
    print(f"command: {command_line()}")
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        run(backend, args)


if __name__ == "__main__":
    main()
