"""Shared pieces of the proofs: a seeded portfolio with one decision point, decisions made over
HTTP, and the check that a server's model equals a replay of the outcome log."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
from sqlalchemy import func, select

from db import migrate
from db.models import Decision, Outcome
from db.session import make_engine
from engine import OutcomeRecord, rebuild
from services.container import Services
from services.domain import CustomerDraft
from services.offers.registry import template_model
from services.offers.values import DecisionPointDraft, LeverDraft, Policy

POINT = "RETENTION"
LEVERS = ("DISCOUNT_10", "FREE_SHIPPING", "NO_ACTION")
# The truth the simulated customers follow: accept rate by lever for price-sensitive / not.
ACCEPT = {"DISCOUNT_10": (0.6, 0.2), "FREE_SHIPPING": (0.3, 0.4), "NO_ACTION": (0.05, 0.05)}
DECIDE = """mutation($e: String!, $defer: Boolean!) { decide(input: {decisionPoint: "RETENTION", externalId: $e,
  deferActivation: $defer}) { __typename ... on Decision { id lever { key } modelVersion
  explanation { candidates { lever estimatedReward } } } } }"""
BATCH = """mutation($ids: [String!]) { decideBatch(input: {decisionPoint: "RETENTION", externalIds: $ids}) {
  __typename ... on DecisionBatch { decisions { edges { node { id lever { key } } } } errors { index message } } } }"""
OUTCOME = """mutation($id: ID!, $a: Boolean!) { recordOutcome(input: {decisionId: $id, accepted: $a}) {
  __typename ... on Outcome { id } } }"""


async def prepare(database_url: str, customers: int) -> None:
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        services = Services.build(engine)
        drafts = [CustomerDraft(external_id=f"p-{i}", attributes={"price_sensitive": i % 2 == 0}) for i in range(customers)]
        for start in range(0, customers, 10_000):
            result = await services.customers.upsert_many(drafts[start:start + 10_000])
            assert not result.errors, result.errors[:3]
        for key in LEVERS:
            await services.offers.catalog.upsert_lever(LeverDraft(key, key))
        await services.offers.catalog.configure(DecisionPointDraft(
            POINT, LEVERS, features=("attributes.price_sensitive",), policy=Policy("LIN_TS", alpha=0.5, seed=1),
        ))
    finally:
        await engine.dispose()


def accepts(lever: str, customer: int, rng: np.random.Generator) -> bool:
    sensitive, other = ACCEPT[lever]
    return bool(rng.random() < (sensitive if customer % 2 == 0 else other))


async def decide_many(client: httpx.AsyncClient, customers: int, rounds: int) -> list[tuple[str, str, int]]:
    """(decision id, lever, customer index) for ``rounds`` decideBatch calls over every customer."""
    made = []
    for _ in range(rounds):
        for start in range(0, customers, 1000):
            ids = [f"p-{i}" for i in range(start, min(customers, start + 1000))]
            body = (await client.post("/graphql", json={"query": BATCH, "variables": {"ids": ids}})).json()
            batch = body["data"]["decideBatch"]
            assert batch["__typename"] == "DecisionBatch" and not batch["errors"], body
            for offset, edge in enumerate(batch["decisions"]["edges"]):
                made.append((edge["node"]["id"], edge["node"]["lever"]["key"], start + offset))
    return made


async def log_counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            outcomes = (await conn.execute(select(func.count()).select_from(Outcome))).scalar_one()
            decided = (await conn.execute(select(func.count(func.distinct(Outcome.decision_id))))).scalar_one()
            decisions = (await conn.execute(select(func.count()).select_from(Decision))).scalar_one()
    finally:
        await engine.dispose()
    return {"outcomes": int(outcomes), "decisions_with_outcome": int(decided), "decisions": int(decisions)}


async def replayed_estimates(database_url: str, decision_id: int) -> tuple[int, dict[str, float]]:
    """(outcomes in the log, per-lever mean estimates) of a model rebuilt from the whole log, for
    the features the given decision was made with."""
    engine = make_engine(database_url)
    try:
        services = Services.build(engine)
        point = next(p for p in await services.offers.catalog.decision_points() if p.key == POINT)
        async with services.sessions() as session:
            rows = (await session.execute(
                select(Outcome.id, Decision.lever_key, Outcome.reward, Decision.features)
                .join(Decision, Decision.id == Outcome.decision_id)
                .where(Outcome.decision_point_id == point.id, Outcome.late.is_(False)).order_by(Outcome.id)
            )).all()
            features = (await session.execute(select(Decision.features).where(Decision.id == decision_id))).scalar_one()
    finally:
        await engine.dispose()
    model = rebuild(template_model(point), [OutcomeRecord(r[0], r[1], r[2], tuple(r[3])) for r in rows])
    estimates = model.policy.point_estimates(np.asarray([features], dtype=float))[0]
    return len(rows), dict(zip(model.levers, (float(e) for e in estimates)))


async def probe(base_url: str, expected_version: int, timeout: float = 60) -> dict[str, Any]:
    """A deferred decision from the server once its model has applied ``expected_version`` outcomes."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while True:
            body = (await client.post("/graphql", json={"query": DECIDE, "variables": {"e": "p-0", "defer": True}})).json()
            decision = body["data"]["decide"]
            if decision["modelVersion"] >= expected_version or asyncio.get_running_loop().time() > deadline:
                return decision
            await asyncio.sleep(0.2)


async def model_matches_replay(database_url: str, base_url: str, expected: int) -> tuple[bool, str]:
    decision = await probe(base_url, expected)
    count, estimates = await replayed_estimates(database_url, int(decision["id"]))
    served = {c["lever"]: c["estimatedReward"] for c in decision["explanation"]["candidates"]}
    same = decision["modelVersion"] == count == expected and all(
        abs(served[k] - estimates[k]) <= 1e-9 * max(1.0, abs(estimates[k])) for k in served
    )
    worst = max(abs(served[k] - estimates[k]) for k in served)
    return same, (f"server model applied {decision['modelVersion']} outcomes, log holds {count} (expected {expected}); "
                  f"largest estimate difference to the replay {worst:.2e}")
