"""Exactly once, smaller than bench/proof_exactly_once.py: 200 outcomes plus 30% retried
duplicates sent concurrently to two server processes on one database (both backends); the log holds each outcome
once and both servers' models equal a replay of the log."""

from __future__ import annotations

import asyncio

from bench import proofs
from bench.proof_exactly_once import holds, run
from tests.conftest import start_server, stop_server

OUTCOMES = 200


def test_outcomes_sent_twice_to_two_servers_are_stored_and_learned_once(database_url: str) -> None:
    asyncio.run(proofs.prepare(database_url, OUTCOMES))
    first = start_server(database_url, timeout=120)
    second = start_server(database_url, timeout=120)
    try:
        result = asyncio.run(run(database_url, [first.url, second.url], OUTCOMES, seed=3))
    finally:
        stop_server(first)
        stop_server(second)
    print(result)
    assert result["answers"]["sent"] > OUTCOMES  # type: ignore[index]
    assert result["log"] == {"outcomes": OUTCOMES, "decisions_with_outcome": OUTCOMES, "decisions": OUTCOMES}
    assert all(same for same, _ in result["models"]), result["models"]  # type: ignore[union-attr]
    assert holds(result, OUTCOMES)
