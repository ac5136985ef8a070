"""Proof: outcomes are stored and learned exactly once, across two server processes on PostgreSQL.

N decisions are made; N outcomes are sent concurrently (16 in flight) to two `ciclo serve`
processes on one PostgreSQL database, plus 30% of them again (retried duplicates, sent to the
other server, shuffled in so some race their original). Then: the log holds exactly N outcomes,
one per decision; each server's model has applied exactly N outcomes and its estimates equal a
model replayed from the whole log.

Usage: python bench/proof_exactly_once.py [--outcomes 10000] [--seed 1]
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
from bench.common import command_line, live_server, scratch_database  # noqa: E402


async def send_all(urls: list[str], decisions: list[tuple[str, str, int]], seed: int, duplicate_share: float,
                   concurrency: int = 16) -> collections.Counter[str]:
    rng = np.random.default_rng(seed)
    jobs = []
    for k, (decision_id, lever, customer) in enumerate(decisions):
        accepted = proofs.accepts(lever, customer, rng)
        home = k % 2
        jobs.append((home, decision_id, accepted))
        if rng.random() < duplicate_share:
            jobs.append((1 - home, decision_id, accepted))  # the retry goes to the other server
    order = rng.permutation(len(jobs))
    answers: collections.Counter[str] = collections.Counter()
    queue: asyncio.Queue[tuple[int, str, bool]] = asyncio.Queue()
    for index in order:
        queue.put_nowait(jobs[index])
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for url in urls]

    async def worker() -> None:
        while not queue.empty():
            server, decision_id, accepted = queue.get_nowait()
            payload = {"query": proofs.OUTCOME, "variables": {"id": decision_id, "a": accepted}}
            for attempt in range(5):
                try:
                    response = await clients[server].post("/graphql", json=payload)
                except httpx.TransportError:
                    # A keep-alive connection closed under us: resending is exactly what clients do.
                    answers["resent after a dropped connection"] += 1
                    if attempt == 4:
                        raise
                    continue
                if response.status_code != 504:
                    break
                # Stopped by CICLO_REQUEST_TIMEOUT_SECONDS: the transaction rolled back or had
                # committed; either way resending the same outcome is safe, and is what clients do.
                answers["resent after a 504 timeout"] += 1
            data = response.json().get("data") or {}
            answers[f"HTTP {response.status_code} {(data.get('recordOutcome') or {}).get('__typename')}"] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    for client in clients:
        await client.aclose()
    answers["sent"] = len(jobs)
    return answers


async def run(database_url: str, urls: list[str], outcomes: int, seed: int) -> dict[str, object]:
    customers = min(outcomes, 1000)
    rounds = -(-outcomes // customers)
    async with httpx.AsyncClient(base_url=urls[0], timeout=120) as client:
        decisions = (await proofs.decide_many(client, customers, rounds))[:outcomes]
    started = time.perf_counter()
    answers = await send_all(urls, decisions, seed, duplicate_share=0.3)
    took = time.perf_counter() - started
    counts = await proofs.log_counts(database_url)
    models = [await proofs.model_matches_replay(database_url, url, outcomes) for url in urls]
    return {"decisions": len(decisions), "answers": dict(answers), "seconds": took, "log": counts, "models": models}


def proof(outcomes: int, seed: int) -> dict[str, object]:
    with scratch_database("postgresql") as url:
        asyncio.run(proofs.prepare(url, min(outcomes, 1000)))
        with live_server(url) as first, live_server(url) as second:
            return asyncio.run(run(url, [first, second], outcomes, seed))


def holds(result: dict[str, object], outcomes: int) -> bool:
    answers = result["answers"]  # type: ignore[assignment]
    log = result["log"]  # type: ignore[assignment]
    return (answers.get("HTTP 200 Outcome", 0) == answers["sent"]  # type: ignore[union-attr]  # type: ignore[union-attr]
            and log["outcomes"] == outcomes and log["decisions_with_outcome"] == outcomes  # type: ignore[index]
            and all(same for same, _ in result["models"]))  # type: ignore[union-attr]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outcomes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = proof(args.outcomes, args.seed)
    print(f"command: {command_line()}")
    print(f"two `ciclo serve` processes on one PostgreSQL database; {result['decisions']} decisions")
    print(f"outcome requests sent: {result['answers']} in {result['seconds']:.1f} s")
    print(f"outcome log: {result['log']}")
    for name, (same, detail) in zip(("server 1", "server 2"), result["models"]):  # type: ignore[arg-type]
        print(f"{name}: model equals the replay of the log: {same} ({detail})")
    verdict = holds(result, args.outcomes)
    print(f"exactly once: {'HOLDS' if verdict else 'BROKEN'}")
    raise SystemExit(0 if verdict else 1)
