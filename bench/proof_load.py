"""Proof under load: `ciclo serve --workers 2` on PostgreSQL, mixed traffic for 60 s.

70% decide, 20% recordOutcome (for decisions made earlier in the run), 10% customer view, over
`--connections` keep-alive connections. Every response is checked (HTTP 200, no GraphQL errors,
the expected result type). Target: zero errors, decide p99 <= 50 ms.

The load comes from wrk (`--client wrk`, the default when it is installed) with a Lua script that
mixes the operations, takes decision ids from decide responses for later outcomes, and reads
each response's Server-Timing: per operation it prints the server-side percentiles, and wrk's
own client-side percentiles over all requests. `--client httpx` drives the same mix from a Python
process instead (per-operation client timings too, but on a 2-core host the client then takes
a core of its own from the servers).

Usage: python bench/proof_load.py [--seconds 60] [--connections 16] [--customers 5000] [--seed 1] [--client wrk|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
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


WRK_SCRIPT = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- This wrk cannot copy tables out of its threads (thread:get of a table crashes it), so each
-- thread writes one line per response to its own file: "T op ms" or "E op why".
function init(args)
  customers = tonumber(args[1])
  math.randomseed(tonumber(args[2]) * 1000 + tid)
  out = io.open(args[3] .. "/thread-" .. tid, "w")
  out:setvbuf("line")
  pending = {}
end

local DECIDE = '{"query":"mutation($e: String!) { decide(input: {decisionPoint: \\"RETENTION\\", externalId: $e}) { __typename ... on Decision { id lever { key } } } }","variables":{"e":"p-%d"}}'
local OUTCOME = '{"query":"mutation($id: ID!, $a: Boolean!) { recordOutcome(input: {decisionId: $id, accepted: $a}) { __typename ... on Outcome { id } } }","variables":{"id":"%s","a":%s}}'
local VIEW = '{"query":"query($e: String!) { customerByExternalId(externalId: $e) { id externalId stage valueTier segments { key } events(first: 5) { edges { node { type occurredAt } } } } }","variables":{"e":"p-%d"}}'

request = function()
  local roll = math.random()
  local customer = math.random(0, customers - 1)
  local body
  if roll < 0.2 and #pending > 0 then
    body = string.format(OUTCOME, table.remove(pending, 1), tostring(math.random() < 0.3))
  elseif roll < 0.3 then
    body = string.format(VIEW, customer)
  else
    body = string.format(DECIDE, customer)
  end
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, body)
end

local function fail(op, why)
  out:write("E ", op, ": ", (why:gsub("\n", " ")), "\n")
end

response = function(status, headers, body)
  local op
  if body:find('"decide"', 1, true) then op = "decide"
  elseif body:find('"recordOutcome"', 1, true) then op = "recordOutcome"
  elseif body:find('"customerByExternalId"', 1, true) then op = "customerView"
  else fail("unknown", "HTTP " .. status .. " " .. body:sub(1, 80)); return end
  local timing = headers["server-timing"] or headers["Server-Timing"]
  local ms = timing and tonumber(timing:match("dur=([%d%.]+)"))
  if ms then out:write("T ", op, " ", ms, "\n") end
  if status ~= 200 then fail(op, "HTTP " .. status); return end
  if body:find('"errors"', 1, true) then fail(op, body:sub(1, 120)); return end
  if op == "decide" then
    local id = body:match('"id":"(%d+)"')
    if id and body:find('"__typename":"Decision"', 1, true) then table.insert(pending, id) else fail(op, body:sub(1, 80)) end
  elseif op == "recordOutcome" and not body:find('"__typename":"Outcome"', 1, true) then fail(op, body:sub(1, 80))
  elseif op == "customerView" and body:find('"customerByExternalId":null', 1, true) then fail(op, "not found") end
end

done = function(summary, latency, requests)
  io.write(string.format("CLIENT %d %d %.3f %.3f %.3f %d\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
"""


def load_wrk(url: str, seconds: float, connections: int, customers: int, seed: int) -> dict[str, object]:
    """The mix from wrk: server-side ms per operation, wrk's client-side percentiles, errors."""
    with tempfile.TemporaryDirectory(prefix="ciclo-proof-") as folder:
        script = Path(folder) / "mix.lua"
        script.write_text(WRK_SCRIPT)
        out = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s", "-s", str(script),
             f"{url}/graphql", "--", str(customers), str(seed), folder],
            capture_output=True, text=True, check=True,
        ).stdout
        lines = [line for path in Path(folder).glob("thread-*") for line in path.read_text().splitlines()]
    server: dict[str, list[float]] = collections.defaultdict(list)
    errors: collections.Counter[str] = collections.Counter()
    client: dict[str, float] = {}
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind == "T":
            op, _, ms = rest.partition(" ")
            server[op].append(float(ms))
        elif kind == "E":
            errors[rest[:160]] += 1
    for line in out.splitlines():
        if line.startswith("CLIENT "):
            requests, micros, p50, p95, p99, socket_errors = line.split()[1:]
            client = {"requests": float(requests), "seconds": float(micros) / 1e6, "p50": float(p50),
                      "p95": float(p95), "p99": float(p99)}
            if int(socket_errors):
                errors["socket errors, timeouts or non-2xx (wrk)"] += int(socket_errors)
    if not client:
        raise RuntimeError(f"wrk printed no summary: {out[-500:]}")
    return {"server": dict(server), "client": client, "errors": errors}


def main(seconds: float, connections: int, customers: int, seed: int, client_kind: str) -> int:
    if client_kind == "wrk" and shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install -y wrk), or pass --client httpx")
    with scratch_database("postgresql") as database_url:
        asyncio.run(proofs.prepare(database_url, customers))
        with live_server(database_url, "--workers", "2") as url:
            if client_kind == "wrk":
                load_wrk(url, 5, connections, customers, seed + 1)  # warm-up, not counted
                result = load_wrk(url, seconds, connections, customers, seed)
            else:
                asyncio.run(load(url, 5, connections, customers, seed + 1))
                result = asyncio.run(load(url, seconds, connections, customers, seed))
    print(f"command: {command_line()}")
    return report_wrk(result, seconds, connections, customers) if client_kind == "wrk" else report_httpx(result, seconds, connections, customers)


def report_wrk(result: dict[str, object], seconds: float, connections: int, customers: int) -> int:
    server, client, errors = result["server"], result["client"], result["errors"]  # type: ignore[assignment]
    total = sum(len(v) for v in server.values())  # type: ignore[union-attr]
    print(f"`ciclo serve --workers 2` on PostgreSQL, {connections} connections from wrk (2 threads), {seconds:g} s, "
          f"{customers} customers: {total} requests ({total / seconds:.0f}/s)")
    for op in ("decide", "recordOutcome", "customerView"):
        values = server.get(op, [])  # type: ignore[union-attr]
        if values:
            ps = percentiles(values)
            print(f"  {op:14s} {len(values):6d} ({len(values) / total:5.1%})  server p50 {ps['p50']:.1f} "
                  f"p95 {ps['p95']:.1f} p99 {ps['p99']:.1f} ms")
    print(f"  all requests at the client (wrk): p50 {client['p50']:.1f} p95 {client['p95']:.1f} p99 {client['p99']:.1f} ms")  # type: ignore[index]
    print(f"  errors: {sum(errors.values())} {dict(errors) if errors else ''}")  # type: ignore[union-attr]
    decide_p99 = percentiles(server["decide"])["p99"]  # type: ignore[index]
    met = decide_p99 <= 50 and client["p99"] <= 50  # type: ignore[index]
    print(f"decide p99 at the server {decide_p99:.1f} ms, every request's p99 at the client {client['p99']:.1f} ms "  # type: ignore[index]
          f"(target <= 50 ms): {'MET' if met else 'MISSED'}; errors: {'none' if not errors else 'SOME'}")
    return 0 if not errors else 1


def report_httpx(result: dict[str, object], seconds: float, connections: int, customers: int) -> int:
    client, server, errors = result["client"], result["server"], result["errors"]  # type: ignore[assignment]
    total = sum(len(v) for v in client.values())  # type: ignore[union-attr]
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
    parser.add_argument("--client", choices=("wrk", "httpx"), default="wrk")
    args = parser.parse_args()
    raise SystemExit(main(args.seconds, args.connections, args.customers, args.seed, args.client))
