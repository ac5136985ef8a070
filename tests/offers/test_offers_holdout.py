"""The control group: stable per customer and period, served the NO_ACTION lever with propensity
controlShare, flagged `holdout`, activated and learned from like any other decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.container import Services
from services.domain import CustomerDraft
from services.offers.assignment import control_period, unit_hash
from services.offers.values import BatchRequest, DecideRequest, DecisionPointDraft, Guardrails, LeverDraft, OutcomeReport, Policy

NOW = datetime.now(UTC).replace(microsecond=0)
LEVERS = (
    LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10),
    LeverDraft("FREE_SHIPPING", "Free shipping", "FREE_SHIPPING", unit_cost=4),
    LeverDraft("HOLD", "No offer", "NO_ACTION"),
)
CONFIGURE = """mutation($input: DecisionPointInput!) { configureDecisionPoint(input: $input) { __typename
  ... on DecisionPoint { controlShare controlPeriodDays } ... on InvalidInput { field message } } }"""
DECIDE = """mutation($input: DecideInput!) { decide(input: $input) { __typename
  ... on Decision { id holdout propensity lever { key kind } } } }"""


async def setup(services: Services, share: float = 0.3, customers: int = 300, **rails: Any) -> list[str]:
    services.offers.decisions.clock = lambda: NOW
    externals = [f"h{i}" for i in range(customers)]
    assert not (await services.customers.upsert_many([CustomerDraft(external_id=e) for e in externals])).errors
    for lever in LEVERS:
        await services.offers.catalog.upsert_lever(lever)
    await services.offers.catalog.configure(
        DecisionPointDraft(
            "RETENTION", tuple(lever.key for lever in LEVERS), features=("stage",), policy=Policy("LIN_TS", seed=5),
            guardrails=Guardrails(control_share=share, control_period_days=30, **rails),
        )
    )
    return externals


async def test_control_group_is_served_no_action_with_propensity_control_share(services: Services) -> None:
    externals = await setup(services)
    batch = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", tuple(externals)))
    held = [d for d in batch.decisions if d.holdout]
    assert 0.2 < len(held) / len(externals) < 0.4
    for d in held:
        assert d.lever == "HOLD" and d.propensity == pytest.approx(0.3) and d.candidates == ("HOLD",)
    served = [d for d in batch.decisions if not d.holdout]
    assert {d.lever for d in served} <= {"DISCOUNT_10", "FREE_SHIPPING", "HOLD"}
    assert {d.lever for d in served} & {"DISCOUNT_10", "FREE_SHIPPING"}
    # membership is the documented hash of customer id, decision point key and period
    period = control_period(NOW, 30)
    assert {d.customer_id for d in held} == {
        d.customer_id for d in batch.decisions if unit_hash(d.customer_id, "RETENTION", f"control:{period}") < 0.3
    }


async def test_membership_is_stable_within_a_period_and_redrawn_in_the_next(services: Services) -> None:
    externals = await setup(services)
    first = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", tuple(externals)))
    again = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", tuple(externals)))
    members = {d.customer_id for d in first.decisions if d.holdout}
    assert members == {d.customer_id for d in again.decisions if d.holdout}
    single = await services.offers.decisions.decide(DecideRequest("RETENTION", externals[0]))
    assert single.holdout == (single.customer_id in members)
    services.offers.decisions.clock = lambda: NOW + timedelta(days=30)
    later = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", tuple(externals)))
    redrawn = {d.customer_id for d in later.decisions if d.holdout}
    assert redrawn != members and 0.2 < len(redrawn) / len(externals) < 0.4


async def test_a_control_share_needs_a_no_action_lever(services: Services, gql: Any) -> None:
    for lever in LEVERS:
        await services.offers.catalog.upsert_lever(lever)
    data = await gql(CONFIGURE, {"input": {"key": "X", "levers": ["DISCOUNT_10", "FREE_SHIPPING"], "controlShare": 0.05}})
    assert data["configureDecisionPoint"]["__typename"] == "InvalidInput"
    assert data["configureDecisionPoint"]["field"] == "controlShare"
    data = await gql(CONFIGURE, {"input": {"key": "X", "levers": ["DISCOUNT_10", "HOLD"], "controlShare": 1.0}})
    assert data["configureDecisionPoint"]["field"] == "controlShare"
    data = await gql(CONFIGURE, {"input": {"key": "X", "levers": ["DISCOUNT_10", "HOLD"], "controlShare": 0.05, "controlPeriodDays": 7}})
    assert data["configureDecisionPoint"] == {"__typename": "DecisionPoint", "controlShare": 0.05, "controlPeriodDays": 7}
    assert [p.key for p in await services.offers.catalog.decision_points()] == ["X"]


async def test_control_decisions_are_activated_counted_and_learned_like_any_other(services: Services, gql: Any) -> None:
    externals = await setup(services, share=0.5, customers=40)
    held = []
    for ext in externals:
        data = await gql(DECIDE, {"input": {"decisionPoint": "RETENTION", "externalId": ext, "deferActivation": True}})
        if data["decide"]["holdout"]:
            assert data["decide"]["lever"] == {"key": "HOLD", "kind": "NO_ACTION"}
            held.append(int(data["decide"]["id"]))
    assert held
    for decision_id in held:
        await services.offers.decisions.activate(decision_id)
        await services.offers.outcomes.record(OutcomeReport(decision_id, True, 10.0))
    await services.offers.sync()
    point = (await services.offers.catalog.decision_points())[0]
    assert services.offers.registry.loaded(point.id).learner.outcomes_applied == len(held)
    stats = {s.lever: s for s in await services.offers.outcomes.lever_stats("RETENTION", None)}
    assert stats["HOLD"].activated >= len(held) and stats["HOLD"].accepted == len(held)


async def test_control_overrides_eligibility_and_candidates(services: Services) -> None:
    externals = await setup(services, share=0.5, customers=40)
    nobody = {"field": "purchaseCount", "op": "GT", "value": 0}  # nobody here bought anything
    await services.offers.catalog.upsert_lever(
        LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10, eligibility=nobody)
    )
    batch = await services.offers.decisions.decide_batch(
        BatchRequest("RETENTION", tuple(externals), candidates=("DISCOUNT_10",))
    )
    # control members still get their NO_ACTION decision; the others have no eligible lever
    assert batch.decisions and all(d.holdout and d.lever == "HOLD" for d in batch.decisions)
    assert len(batch.decisions) + len(batch.errors) == len(externals)
    assert all("no eligible lever" in e.message for e in batch.errors)
