"""NET_VALUE arbitration in decide/decideBatch: terms in the explanation, the customer's value,
lever weights, propensities that count the arbitration, and a bandit that keeps learning acceptance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.container import Services
from services.domain import CustomerDraft, EventDraft
from services.offers.simulation import simulate
from services.offers.values import (
    BatchRequest,
    DecideRequest,
    DecisionPointDraft,
    Guardrails,
    LeverDraft,
    OutcomeReport,
    Policy,
)

NOW = datetime.now(UTC).replace(microsecond=0)
LEVERS = (
    LeverDraft("DEEP", "90% off", "DISCOUNT", discount_percent=90),
    LeverDraft("CALL", "A call", "PERSONAL_CALL", contact_cost=3, unit_cost=2),
    LeverDraft("NONE", "Nothing", "NO_ACTION"),
)
DECIDE = """mutation($input: DecideInput!) { decide(input: $input) { __typename ... on Decision {
  lever { key } propensity explanation { candidates { lever score netValue { pAccept value cost weight netValue } } } } } }"""


async def setup(services: Services, policy: Policy, *, levers: tuple[LeverDraft, ...] = LEVERS, **rails: Any) -> None:
    services.lifecycle.clock = lambda: NOW
    drafts = [CustomerDraft(external_id=f"v{i}", attributes={"margin": 10.0 * (i + 1)}) for i in range(4)]
    assert not (await services.customers.upsert_many(drafts)).errors
    # average order value of every customer: (150 + 50) / 2 = 100
    events = [EventDraft(f"v{i}", "PURCHASE", NOW - timedelta(days=d), amount=a) for i in range(4) for d, a in ((20, 150.0), (10, 50.0))]
    assert not (await services.events.record_many(events)).errors
    for lever in levers:
        await services.offers.catalog.upsert_lever(lever)
    await services.offers.catalog.configure(
        DecisionPointDraft(
            "SAVE", tuple(lever.key for lever in levers), features=("attributes.margin",), policy=policy,
            reward="NET_VALUE", guardrails=Guardrails(objective="NET_VALUE", **rails),
        )
    )


async def test_explanation_shows_each_term_and_the_choice_maximises_net_value(services: Services, gql: Any) -> None:
    await setup(services, Policy("LIN_TS", alpha=0.5, seed=4))
    for i in range(4):
        data = await gql(DECIDE, {"input": {"decisionPoint": "SAVE", "externalId": f"v{i}"}})
        decision = data["decide"]
        candidates = {c["lever"]: c for c in decision["explanation"]["candidates"]}
        assert set(candidates) == {"DEEP", "CALL", "NONE"}
        for lever, c in candidates.items():
            t = c["netValue"]
            assert 0 <= t["pAccept"] <= 1 and t["value"] == pytest.approx(100.0) and t["weight"] == 1
            contact, unit, share = {"DEEP": (0, 0, 0.9), "CALL": (3, 2, 0), "NONE": (0, 0, 0)}[lever]
            assert t["cost"] == pytest.approx(contact + t["pAccept"] * (unit + share * 100.0))
            assert t["netValue"] == pytest.approx(t["pAccept"] * 100.0 - t["cost"])
            assert c["score"] == pytest.approx(t["netValue"])
        best = max(candidates.values(), key=lambda c: c["netValue"]["netValue"])
        assert decision["lever"]["key"] == best["lever"]


async def test_value_attribute_and_weights_enter_the_net_value(services: Services) -> None:
    levers = (LeverDraft("DEEP", "90% off", "DISCOUNT", discount_percent=90, weight=2.5), *LEVERS[1:])
    await setup(services, Policy("LIN_TS", seed=1), levers=levers, value_attribute="attributes.margin")
    batch = await services.offers.decisions.decide_batch(BatchRequest("SAVE", ("v0", "v3")))
    for decision, margin in zip(batch.decisions, (10.0, 40.0)):
        terms = {e.lever: e.net_value for e in decision.estimates}
        assert terms["DEEP"].value == pytest.approx(margin) and terms["DEEP"].weight == 2.5
        deep = terms["DEEP"]
        assert deep.net_value == pytest.approx(2.5 * (deep.p_accept * margin - deep.cost))


async def _teach(services: Services, lever: str, accepted: int, total: int) -> None:
    for n in range(total):
        decision = await services.offers.decisions.decide(
            DecideRequest("SAVE", f"v{n % 4}", request_id=f"{lever}-{n}", candidates=(lever,))
        )
        await services.offers.outcomes.record(OutcomeReport(decision.id, n < accepted, 100.0 if n < accepted else None))
    await services.offers.sync()


async def test_bandit_learns_acceptance_and_propensity_follows_the_arbitrated_greedy_lever(services: Services) -> None:
    await setup(services, Policy("EPSILON_GREEDY", epsilon=0.2, seed=2))
    await _teach(services, "DEEP", 9, 10)
    await _teach(services, "NONE", 5, 10)
    await _teach(services, "CALL", 1, 10)
    model = services.offers.registry.loaded((await services.offers.catalog.decision_points())[0].id).learner.model
    means = dict(zip(model.levers, model.policy.means().tolist()))
    # learned acceptance rates (the stored NET_VALUE rewards are revenue minus cost, up to 100)
    assert means["DEEP"] == pytest.approx(0.9) and means["NONE"] == pytest.approx(0.5)
    # by acceptance DEEP would win; by net value (value 100) NONE: 0.5 x 100 > 0.9 x 100 - 0.9 x 90
    seen = set()
    for n in range(40):
        d = await services.offers.decisions.decide(DecideRequest("SAVE", f"v{n % 4}", request_id=f"p-{n}"))
        seen.add(d.lever)
        expected = 0.8 + 0.2 / 3 if d.lever == "NONE" else 0.2 / 3
        assert d.propensity == pytest.approx(expected)
    assert "NONE" in seen


async def test_net_value_arbitration_beats_acceptance_optimisation_on_the_deep_discount_trap(services: Services) -> None:
    by_acceptance = await simulate(services, "deep_discount_trap", 5000, seed=2, metric="net_value", reward="ACCEPTED")
    by_value = await simulate(services, "deep_discount_trap", 5000, seed=2, metric="net_value", objective="NET_VALUE")
    assert by_value.result.total("engine") > 1.1 * by_acceptance.result.total("engine")
