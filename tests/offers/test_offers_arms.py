"""Champion / challenger / shadow: stable traffic split, each arm learns only from its own
decisions, promotion keeps every arm's learning, the shadow scores without serving."""

from __future__ import annotations

from typing import Any

import pytest

from services.container import Services
from services.domain import CustomerDraft
from services.errors import InvalidInput
from services.offers.registry import ModelRegistry
from services.offers.values import (
    BatchRequest,
    DecisionPointDraft,
    Guardrails,
    LeverDraft,
    OutcomeReport,
    Policy,
    PolicyArm,
)

LEVERS = (
    LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10),
    LeverDraft("FREE_SHIPPING", "Free shipping", "FREE_SHIPPING", unit_cost=4),
    LeverDraft("NO_ACTION", "Nothing", "NO_ACTION"),
)
CHAMPION = Policy("LIN_TS", alpha=0.5, seed=1)
CHALLENGER = Policy("EPSILON_GREEDY", epsilon=0.3, seed=2)
ARMS = """query { policyArms(decisionPoint: "RETENTION") { name champion shadow trafficPercent decisions outcomes
  acceptRate scored agreementRate expectedReward servedExpectedReward } }"""
PROMOTE = """mutation($arm: String!) { promotePolicy(decisionPoint: "RETENTION", arm: $arm) { __typename
  ... on DecisionPoint { version policy { kind } arms { name champion trafficPercent shadow policy { kind } } }
  ... on InvalidInput { field message } ... on UnknownDecisionPoint { key } } }"""


async def setup(services: Services, *arms: PolicyArm, customers: int = 300) -> tuple[str, ...]:
    externals = tuple(f"a{i}" for i in range(customers))
    assert not (await services.customers.upsert_many([CustomerDraft(external_id=e) for e in externals])).errors
    for lever in LEVERS:
        await services.offers.catalog.upsert_lever(lever)
    await services.offers.catalog.configure(
        DecisionPointDraft(
            "RETENTION", tuple(lever.key for lever in LEVERS), features=("stage",), policy=CHAMPION,
            guardrails=Guardrails(challengers=arms),
        )
    )
    return externals


async def decide_and_answer(services: Services, externals: tuple[str, ...]) -> list[Any]:
    batch = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", externals))
    assert not batch.errors
    reports = [OutcomeReport(d.id, d.lever == "FREE_SHIPPING", 20.0 if d.lever == "FREE_SHIPPING" else None) for d in batch.decisions]
    assert not (await services.offers.outcomes.record_many(reports)).errors
    await services.offers.sync()
    return list(batch.decisions)


async def test_traffic_splits_stably_and_each_arm_learns_only_from_its_own_decisions(services: Services) -> None:
    externals = await setup(services, PolicyArm("greedy", CHALLENGER, traffic_percent=40))
    first = await decide_and_answer(services, externals)
    arm_of = {d.customer_id: d.policy_arm for d in first}
    share = sum(arm == "greedy" for arm in arm_of.values()) / len(arm_of)
    assert 0.3 < share < 0.5 and set(arm_of.values()) == {"main", "greedy"}
    second = await decide_and_answer(services, externals)
    assert {d.customer_id: d.policy_arm for d in second} == arm_of
    point = (await services.offers.catalog.decision_points())[0]
    registry = services.offers.registry
    counts = {arm: 2 * sum(a == arm for a in arm_of.values()) for arm in ("main", "greedy")}
    assert registry.loaded(point.id, "main").learner.outcomes_applied == counts["main"]
    assert registry.loaded(point.id, "greedy").learner.outcomes_applied == counts["greedy"]
    # each arm's model is its own policy
    assert registry.loaded(point.id, "greedy").learner.model.config.kind.value == "EPSILON_GREEDY"
    # and comes back from its own snapshot after a restart
    assert await registry.snapshot(point.id, "greedy")
    restarted = ModelRegistry(services.sessions)
    arms = await restarted.serving_arms(point)
    assert arms["greedy"].learner.outcomes_applied == counts["greedy"]
    assert arms["main"].learner.outcomes_applied == counts["main"]


async def test_promotion_swaps_roles_and_keeps_every_arms_learning(services: Services, gql: Any) -> None:
    externals = await setup(services, PolicyArm("greedy", CHALLENGER, traffic_percent=40))
    first = await decide_and_answer(services, externals)
    point = (await services.offers.catalog.decision_points())[0]
    learned = {arm: services.offers.registry.loaded(point.id, arm).learner.model for arm in ("main", "greedy")}
    data = await gql(PROMOTE, {"arm": "greedy"})
    promoted = data["promotePolicy"]
    assert promoted["version"] == point.version and promoted["policy"] == {"kind": "EPSILON_GREEDY"}
    assert promoted["arms"] == [
        {"name": "greedy", "champion": True, "trafficPercent": 60.0, "shadow": False, "policy": {"kind": "EPSILON_GREEDY"}},
        {"name": "main", "champion": False, "trafficPercent": 40.0, "shadow": False, "policy": {"kind": "LIN_TS"}},
    ]
    second = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", externals))
    after = {d.customer_id: d.policy_arm for d in second.decisions}
    before = {d.customer_id: d.policy_arm for d in first}
    # the same customers stay in the first 40 % of the hash: they now go to the old champion
    assert {c for c, arm in after.items() if arm == "main"} == {c for c, arm in before.items() if arm == "greedy"}
    point = (await services.offers.catalog.decision_points())[0]
    for arm, model in learned.items():
        kept = services.offers.registry.loaded(point.id, arm).learner.model
        assert kept.outcomes_applied == model.outcomes_applied > 0
    assert services.offers.registry.loaded(point.id).arm == "greedy"
    data = await gql(PROMOTE, {"arm": "nobody"})
    assert data["promotePolicy"]["__typename"] == "InvalidInput" and data["promotePolicy"]["field"] == "arm"


async def test_shadow_scores_every_decision_never_serves_and_reports_agreement(services: Services, gql: Any) -> None:
    externals = await setup(services, PolicyArm("shadow", Policy("RANDOM", seed=9), shadow=True), customers=200)
    decisions = await decide_and_answer(services, externals)
    assert all(d.policy_arm == "main" and d.shadow is not None and d.shadow.arm == "shadow" for d in decisions)
    agree = sum(d.shadow.lever == d.lever for d in decisions) / len(decisions)
    expected = sum(d.shadow.expected_reward for d in decisions) / len(decisions)
    reports = {r["name"]: r for r in (await gql(ARMS))["policyArms"]}
    assert reports["main"]["champion"] and reports["main"]["decisions"] == 200 and reports["main"]["trafficPercent"] == 100
    shadow = reports["shadow"]
    assert shadow["shadow"] and shadow["decisions"] == 0 and shadow["scored"] == 200
    assert shadow["agreementRate"] == pytest.approx(agree) and 0 < agree < 1
    assert shadow["expectedReward"] == pytest.approx(expected)
    served = sum(d.expected_reward for d in decisions) / len(decisions)
    assert shadow["servedExpectedReward"] == pytest.approx(served)
    # the shadow learns nothing: it made no decisions
    point = (await services.offers.catalog.decision_points())[0]
    assert services.offers.registry.loaded(point.id, "shadow").learner.outcomes_applied == 0


@pytest.mark.parametrize(
    ("arms", "field"),
    [
        ((PolicyArm("b", CHALLENGER, 60), PolicyArm("c", CHALLENGER, 40)), "arms"),
        ((PolicyArm("main", CHALLENGER, 10),), "arms[0].name"),
        ((PolicyArm("s", CHALLENGER, 10, shadow=True),), "arms[0].trafficPercent"),
        ((PolicyArm("b", Policy("LIN_TS", alpha=-1), 10),), "arms[0].policy.alpha"),
        ((PolicyArm("b", CHALLENGER, 0),), "arms[0].trafficPercent"),
    ],
)
async def test_bad_arm_configurations_are_refused_by_field(services: Services, arms: tuple[PolicyArm, ...], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await setup(services, *arms, customers=1)
    assert caught.value.field == field
    assert await services.offers.catalog.decision_points() == []
