"""Two real server processes on one database: an outcome recorded on one teaches the other."""

from __future__ import annotations

import asyncio
import time

import httpx

from db.session import make_engine
from services.container import Services
from services.domain import CustomerDraft
from services.offers.values import DecisionPointDraft, LeverDraft, Policy
from tests.conftest import LiveServer, start_server, stop_server

DECIDE = """mutation($r: String) { decide(input: {decisionPoint: "RETENTION", externalId: "w-1", requestId: $r,
  candidates: ["DISCOUNT_10"]}) { ... on Decision { id expectedReward modelVersion } } }"""
RECORD = """mutation($id: ID!) { recordOutcome(input: {decisionId: $id, accepted: true, revenue: 20}) {
  __typename ... on Outcome { id } } }"""


async def _prepare(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        services = Services.build(engine)
        await services.customers.upsert_many([CustomerDraft(external_id="w-1", attributes={"price_sensitive": True})])
        for key in ("DISCOUNT_10", "NO_ACTION"):
            await services.offers.catalog.upsert_lever(LeverDraft(key, key))
        await services.offers.catalog.configure(
            DecisionPointDraft("RETENTION", ("DISCOUNT_10", "NO_ACTION"), features=("attributes.price_sensitive",),
                               policy=Policy("LIN_TS", alpha=0.5, seed=1))
        )
    finally:
        await engine.dispose()


def post(server: LiveServer, query: str, variables: dict) -> dict:
    response = httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables}, timeout=30)
    return response.json()["data"]


def test_an_outcome_recorded_on_one_server_changes_decisions_on_another_within_two_seconds(database_url: str) -> None:
    asyncio.run(_prepare(database_url))
    first = start_server(database_url)
    second = start_server(database_url)
    try:
        before = post(second, DECIDE, {"r": None})["decide"]
        served = post(first, DECIDE, {"r": "shown-1"})["decide"]
        recorded = post(first, RECORD, {"id": served["id"]})["recordOutcome"]
        assert recorded["__typename"] == "Outcome"
        started = time.monotonic()
        while True:
            after = post(second, DECIDE, {"r": None})["decide"]
            if after["modelVersion"] > before["modelVersion"]:
                break
            assert time.monotonic() - started < 2.0, "the other server did not learn within 2 s"
            time.sleep(0.05)
        assert after["expectedReward"] > before["expectedReward"]
        assert after["modelVersion"] == 1
    finally:
        stop_server(first)
        stop_server(second)
