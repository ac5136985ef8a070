"""Proof under load: `ciclo serve --workers 2` on PostgreSQL, mixed traffic for 60 s.

70% decide, 20% recordOutcome (for decisions made earlier in the run), 10% customer view, from
a separate Python process with httpx over `--connections` keep-alive connections. Prints
per-operation counts, errors, and latency percentiles at the client and at the server
(Server-Timing). Target: zero errors, decide p99 <= 50 ms.

Usage: python bench/proof_load.py [--seconds 60] [--connections 16] [--customers 5000] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import proofs  # noqa: E402
from bench.common import command_line, live_server, percentiles, scratch_database, server_ms  # noqa: E402

DECIDE = """mutation($e: String!) { decide(input: {decisionPoint: "RETENTION", externalId: $e}) {
  __typename ... on Decision { id lever { key } } } }"""
VIEW = """query($e: String!) { customerByExternalId(externalId: $e) { id externalId stage valueTier
  segments { key } events(first: 5) { edges { node { type occurredAt } } } } }"""


async def load(url: str, seconds: float, connections: int, customers: int, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    pending: collections.deque[tuple[str, str, int]] = collections.deque()
    client_ms: dict[str, list[float]] = collections.defaultdict(list)
    server: dict[str, list[float]] = collections.defaultdict(list)
    errors: collections.Counter[str] = collections.Counter()
    stop_at = time.perf_counter() + seconds

    async def connection(index: int) -> None:
        local = np.random.default_rng([seed, index])
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=1)) as client:
            while time.perf_counter() < stop_at:
                roll = local.random()
                customer = int(local.integers(customers))
                if roll < 0.2 and pending:
                    op = "recordOutcome"
                    decision_id, lever, who = pending.popleft()
                    body = {"query": proofs.OUTCOME, "variables": {"id": decision_id, "a": proofs.accepts(lever, who, local)}}
                elif roll < 0.3:
                    op, body = "customerView", {"query": VIEW, "variables": {"e": f"p-{customer}"}}
                else:
                    op, body = "decide", {"query": DECIDE, "variables": {"e": f"p-{customer}"}}
                started = time.perf_counter()
                try:
                    response = await client.post("/graphql", json=body)
                except httpx.HTTPError as exc:
                    errors[f"{op}: {type(exc).__name__}"] += 1
                    continue
                client_ms[op].append((time.perf_counter() - started) * 1000)
                server[op].append(server_ms(response))
                data = response.json() if response.status_code == 200 else {}
                if response.status_code != 200 or data.get("errors"):
                    errors[f"{op}: HTTP {response.status_code} {str(data.get('errors'))[:120]}"] += 1
                elif op == "decide":
                    decision = data["data"]["decide"]
                    if decision["__typename"] != "Decision":
                        errors[f"decide: {decision['__typename']}"] += 1
                    else:
                        pending.append((decision["id"], decision["lever"]["key"], customer))
                elif op == "recordOutcome" and data["data"]["recordOutcome"]["__typename"] != "Outcome":
                    errors[f"recordOutcome: {data['data']['recordOutcome']['__typename']}"] += 1
                elif op == "customerView" and data["data"]["customerByExternalId"] is None:
                    errors["customerView: not found"] += 1

    del rng
    await asyncio.gather(*(connection(i) for i in range(connections)))
    return {"client": client_ms, "server": server, "errors": errors}


def main(seconds: float, connections: int, customers: int, seed: int) -> int:
    with scratch_database("postgresql") as database_url:
        asyncio.run(proofs.prepare(database_url, customers))
        with live_server(database_url, "--workers", "2") as url:
            asyncio.run(load(url, 5, connections, customers, seed + 1))  # warm-up, not counted
            result = asyncio.run(load(url, seconds, connections, customers, seed))
    client, server, errors = result["client"], result["server"], result["errors"]  # type: ignore[assignment]
    total = sum(len(v) for v in client.values())  # type: ignore[union-attr]
    print(f"command: {command_line()}")
    print(f"`ciclo serve --workers 2` on PostgreSQL, {connections} connections from one Python/httpx process, "
          f"{seconds:g} s, {customers} customers: {total} requests ({total / seconds:.0f}/s)")
    for op in ("decide", "recordOutcome", "customerView"):
        c, s = client.get(op, []), server.get(op, [])  # type: ignore[union-attr]
        if not c:
            continue
        pc, ps = percentiles(c), percentiles(s)
        print(f"  {op:14s} {len(c):6d} ({len(c) / total:5.1%})  client p50 {pc['p50']:.1f} p95 {pc['p95']:.1f} "
              f"p99 {pc['p99']:.1f} ms | server p50 {ps['p50']:.1f} p95 {ps['p95']:.1f} p99 {ps['p99']:.1f} ms")
    print(f"  errors: {sum(errors.values())} {dict(errors) if errors else ''}")  # type: ignore[union-attr]
    p99 = percentiles(client["decide"])["p99"]  # type: ignore[index]
    print(f"decide p99 at the client {p99:.1f} ms (target <= 50 ms): {'MET' if p99 <= 50 else 'MISSED'}; "
          f"errors: {'none' if not errors else 'SOME'}")
    return 0 if not errors else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    raise SystemExit(main(args.seconds, args.connections, args.customers, args.seed))
