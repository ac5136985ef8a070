"""Proof under a crash: `kill -9` one worker of `ciclo serve --workers 2` (PostgreSQL) in the
middle of load, then restart the server. Every decision and outcome the clients saw acknowledged
must be in the database, and the restarted server's model must equal a replay of the log.

Usage: python bench/proof_crash.py [--seconds 20] [--connections 8] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import proofs  # noqa: E402
from bench.common import command_line, scratch_database  # noqa: E402
from db.models import Decision, Outcome  # noqa: E402
from db.session import make_engine  # noqa: E402

CUSTOMERS = 500
DECIDE = """mutation($e: String!) { decide(input: {decisionPoint: "RETENTION", externalId: $e}) {
  __typename ... on Decision { id lever { key } } } }"""


def start(database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--database-url", database_url, "--workers", "2"],
        stdout=log.open("a"), stderr=subprocess.STDOUT, env={**os.environ, "CICLO_AUTH": "off"},
    )
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start; see {log}")
        time.sleep(0.3)


def workers_of(pid: int) -> list[int]:
    """The uvicorn worker processes of the server (its spawned children, not the resource tracker)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == pid and b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                children.append(int(entry))
    return children


async def load(url: str, seconds: float, connections: int, seed: int, kill: int) -> dict[str, object]:
    decisions: set[int] = set()
    outcomes: dict[int, int] = {}
    failures: collections.Counter[str] = collections.Counter()
    stop_at = time.perf_counter() + seconds
    killed_at = time.perf_counter() + seconds / 2

    async def killer() -> None:
        await asyncio.sleep(seconds / 2)
        os.kill(kill, signal.SIGKILL)

    async def connection(index: int) -> None:
        rng = np.random.default_rng([seed, index])
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=1)) as client:
            while time.perf_counter() < stop_at:
                customer = int(rng.integers(CUSTOMERS))
                try:
                    body = (await client.post("/graphql", json={"query": DECIDE, "variables": {"e": f"p-{customer}"}})).json()
                    decision = body["data"]["decide"]
                    decisions.add(int(decision["id"]))
                    variables = {"id": decision["id"], "a": proofs.accepts(decision["lever"]["key"], customer, rng)}
                    body = (await client.post("/graphql", json={"query": proofs.OUTCOME, "variables": variables})).json()
                    outcomes[int(decision["id"])] = int(body["data"]["recordOutcome"]["id"])
                except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
                    phase = "before" if time.perf_counter() < killed_at else "after"
                    failures[f"{type(exc).__name__} ({phase} the kill)"] += 1

    await asyncio.gather(killer(), *(connection(i) for i in range(connections)))
    return {"decisions": decisions, "outcomes": outcomes, "failures": failures}


async def stored(database_url: str) -> tuple[set[int], dict[int, int]]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            decisions = set((await conn.execute(select(Decision.id))).scalars())
            outcomes = {int(d): int(o) for d, o in (await conn.execute(select(Outcome.decision_id, Outcome.id))).all()}
    finally:
        await engine.dispose()
    return decisions, outcomes


def main(seconds: float, connections: int, seed: int) -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = Path(tempfile.gettempdir()) / f"ciclo-proof-crash-{port}.log"
    url = f"http://127.0.0.1:{port}"
    with scratch_database("postgresql") as database_url:
        asyncio.run(proofs.prepare(database_url, CUSTOMERS))
        server = start(database_url, port, log)
        try:
            victim = workers_of(server.pid)[0]
            result = asyncio.run(load(url, seconds, connections, seed, victim))
        finally:
            server.terminate()
            server.wait(timeout=60)
        server = start(database_url, port, log)  # the restart
        try:
            decisions, outcomes = asyncio.run(stored(database_url))
            in_log = len(outcomes)
            same, detail = asyncio.run(proofs.model_matches_replay(database_url, url, in_log))
        finally:
            server.terminate()
            server.wait(timeout=60)
    acked_decisions, acked_outcomes = result["decisions"], result["outcomes"]  # type: ignore[assignment]
    lost_decisions = acked_decisions - decisions  # type: ignore[operator]
    lost_outcomes = {d: o for d, o in acked_outcomes.items() if outcomes.get(d) != o}  # type: ignore[union-attr]
    print(f"command: {command_line()}")
    print(f"`ciclo serve --workers 2` on PostgreSQL, {connections} connections for {seconds:g} s; worker {victim} "
          f"killed with SIGKILL at {seconds / 2:g} s; then the server was stopped and started again")
    print(f"acknowledged: {len(acked_decisions)} decisions, {len(acked_outcomes)} outcomes; "  # type: ignore[arg-type]
          f"requests that failed around the kill: {dict(result['failures'])}")  # type: ignore[call-overload]
    print(f"in the database after restart: {len(decisions)} decisions, {in_log} outcomes; acknowledged but missing: "
          f"{len(lost_decisions)} decisions, {len(lost_outcomes)} outcomes")
    died = f"Child process [{victim}] died" in log.read_text(errors="replace")
    print(f"server log confirms the worker died and uvicorn started a replacement: {died}")
    print(f"restarted server's model equals the replay of the log: {same} ({detail})")
    verdict = died and not lost_decisions and not lost_outcomes and same
    print(f"crash proof: {'HOLDS' if verdict else 'BROKEN'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    raise SystemExit(main(args.seconds, args.connections, args.seed))
