"""Lever eligibility (segment rule language, evaluated in memory per decision) and tier caps, in
decide and decideBatch, on both databases; the in-memory answer equals the segment SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from db.dialect import dialect_name
from engine.model import OfferModel
from services.container import Services
from services.domain import CustomerDraft, EventDraft
from services.errors import InvalidInput
from services.lifecycle.membership import matching
from services.lifecycle.segment_rules import compile_rule as compile_sql
from services.offers.eligibility import compile_rule
from services.offers.errors import NoEligibleLever
from services.offers.values import BatchRequest, DecideRequest, DecisionPointDraft, Guardrails, LeverDraft, Policy
from db.repositories import offer_features

NOW = datetime.now(UTC).replace(microsecond=0)
GOLD_OR_BETTER = {"field": "valueTier", "op": "IN", "value": ["PLATINUM", "GOLD"]}
PRICE_CHURN = {"field": "churnReason", "op": "EQ", "value": "PRICE"}
TENURED = {"field": "tenureDays", "op": "GTE", "value": 30}
LEVERS = (
    LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10, eligibility=TENURED),
    LeverDraft("DISCOUNT_20", "20% off", "DISCOUNT", discount_percent=20, eligibility=GOLD_OR_BETTER),
    LeverDraft("WINBACK_PRICE", "15% win-back", "DISCOUNT", discount_percent=15, eligibility=PRICE_CHURN),
    LeverDraft("NO_ACTION", "Nothing", "NO_ACTION"),
)

DECIDE = """mutation($input: DecideInput!) { decide(input: $input) { __typename
  ... on Decision { lever { key } propensity candidates explanation { excluded { lever rule } candidates { lever } } }
  ... on NoEligibleLever { candidates excluded { lever rule } } } }"""
UPSERT_LEVER = """mutation($input: LeverInput!) { upsertLever(input: $input) { __typename
  ... on Lever { key eligibility } ... on InvalidInput { field message } } }"""


async def portfolio(services: Services) -> None:
    """Ten buyers c0..c9 spending 1000..100 (tiers: c0 PLATINUM, c1-c2 GOLD, c3-c5 SILVER, c6-c9
    BRONZE); c9 bought for the first time 5 days ago; c4 cancelled over price; p0 never bought."""
    services.lifecycle.clock = lambda: NOW
    drafts = [CustomerDraft(external_id=f"c{i}") for i in range(10)] + [CustomerDraft(external_id="p0")]
    assert not (await services.customers.upsert_many(drafts)).errors
    events = []
    for i in range(10):
        first = NOW - timedelta(days=5 if i == 9 else 200)
        events.append(EventDraft(f"c{i}", "PURCHASE", first, amount=float(1000 - 100 * i)))
        events.append(EventDraft(f"c{i}", "PURCHASE", NOW - timedelta(days=2), amount=1.0))
    events.append(EventDraft("c4", "SUBSCRIPTION_CANCELLED", NOW - timedelta(days=1), reason="price"))
    assert not (await services.events.record_many(events)).errors
    await services.lifecycle.recompute()


async def configure(services: Services, key: str = "RETENTION", **rails: Any) -> None:
    for lever in LEVERS:
        await services.offers.catalog.upsert_lever(lever)
    await services.offers.catalog.configure(
        DecisionPointDraft(
            key=key, levers=tuple(lever.key for lever in LEVERS), features=("valueTier",),
            policy=Policy("RANDOM", seed=1), guardrails=Guardrails(**rails),
        )
    )


EXPECTED = {
    "c0": {"DISCOUNT_10", "DISCOUNT_20", "NO_ACTION"},
    "c1": {"DISCOUNT_10", "DISCOUNT_20", "NO_ACTION"},
    "c3": {"DISCOUNT_10", "NO_ACTION"},
    "c4": {"DISCOUNT_10", "WINBACK_PRICE", "NO_ACTION"},
    "c9": {"NO_ACTION"},  # BRONZE and in the first 30 days
    "p0": {"NO_ACTION"},  # no purchase: no tenure
}


async def test_eligibility_rules_decide_which_levers_each_customer_may_get(services: Services) -> None:
    await portfolio(services)
    await configure(services)
    for ext, allowed in EXPECTED.items():
        for attempt in range(6):
            decision = await services.offers.decisions.decide(DecideRequest("RETENTION", ext, request_id=f"{ext}-{attempt}"))
            assert set(decision.candidates) == allowed, ext
            assert decision.lever in allowed
            # RANDOM is uniform over the eligible levers only: excluded ones get no probability mass
            assert decision.propensity == pytest.approx(1 / len(allowed))
            assert {e.lever for e in decision.estimates} == allowed
            assert {e.lever for e in decision.excluded} == {lever.key for lever in LEVERS} - allowed
    c9 = await services.offers.decisions.decide(DecideRequest("RETENTION", "c9"))
    rules = {e.lever: e.rule for e in c9.excluded}
    assert rules["DISCOUNT_10"] == 'eligibility {"field":"tenureDays","op":"GTE","value":30}'
    assert rules["DISCOUNT_20"].startswith("eligibility ") and "PLATINUM" in rules["DISCOUNT_20"]


async def test_decide_batch_masks_per_row_with_one_engine_call_per_chunk(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await portfolio(services)
    await configure(services)
    calls: list[int] = []
    original = OfferModel.decide_features

    def counted(self: OfferModel, features: Any, mask: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(features))
        return original(self, features, mask, *args, **kwargs)

    monkeypatch.setattr(OfferModel, "decide_features", counted)
    externals = tuple(EXPECTED)
    batch = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", externals))
    assert calls == [len(externals)]
    assert not batch.errors
    by_customer = {d.customer_id: d for d in batch.decisions}
    facts = await _facts(services, externals)
    for ext, allowed in EXPECTED.items():
        decision = by_customer[facts[ext]]
        assert set(decision.candidates) == allowed and decision.lever in allowed


async def test_no_eligible_lever_is_typed_and_gives_every_reason(services: Services, gql: Any) -> None:
    await portfolio(services)
    await configure(services)
    data = await gql(DECIDE, {"input": {"decisionPoint": "RETENTION", "externalId": "c9", "candidates": ["DISCOUNT_10", "DISCOUNT_20"]}})
    result = data["decide"]
    assert result["__typename"] == "NoEligibleLever"
    assert {e["lever"] for e in result["excluded"]} == {"DISCOUNT_10", "DISCOUNT_20"}
    assert all(e["rule"].startswith("eligibility ") for e in result["excluded"])
    with pytest.raises(NoEligibleLever):
        await services.offers.decisions.decide(DecideRequest("RETENTION", "p0", candidates=("WINBACK_PRICE",)))
    # in a batch the refused customer is an item error; the others are decided
    batch = await services.offers.decisions.decide_batch(
        BatchRequest("RETENTION", ("c0", "c9"), candidates=("DISCOUNT_10", "DISCOUNT_20"))
    )
    assert [e.index for e in batch.errors] == [1] and "no eligible lever" in batch.errors[0].message
    assert len(batch.decisions) == 1


async def test_tier_caps_keep_deep_discounts_from_lower_tiers(services: Services, gql: Any) -> None:
    await portfolio(services)
    await configure(services, max_discount_percent=(("GOLD", 10.0), ("SILVER", 10.0)))
    gold = await services.offers.decisions.decide(DecideRequest("RETENTION", "c1"))
    assert set(gold.candidates) == {"DISCOUNT_10", "NO_ACTION"}
    assert {e.lever: e.rule for e in gold.excluded}["DISCOUNT_20"] == "maxDiscountPercent GOLD 10% < 20%"
    platinum = await services.offers.decisions.decide(DecideRequest("RETENTION", "c0"))
    assert "DISCOUNT_20" in platinum.candidates  # no cap for PLATINUM
    silver_price = await services.offers.decisions.decide(DecideRequest("RETENTION", "c4"))
    assert set(silver_price.candidates) == {"DISCOUNT_10", "NO_ACTION"}  # WINBACK_PRICE (15%) over the cap
    data = await gql(DECIDE, {"input": {"decisionPoint": "RETENTION", "externalId": "c1"}})
    excluded = data["decide"]["explanation"]["excluded"]
    assert {"lever": "DISCOUNT_20", "rule": "maxDiscountPercent GOLD 10% < 20%"} in excluded


async def test_upsert_lever_refuses_a_bad_rule_naming_the_node(services: Services, gql: Any) -> None:
    bad = {"all": [TENURED, {"field": "valueTier", "op": "BETWEEN", "value": "GOLD"}]}
    data = await gql(UPSERT_LEVER, {"input": {"key": "D", "name": "D", "eligibility": bad}})
    assert data["upsertLever"] == {"__typename": "InvalidInput", "field": "eligibility.all[1].op", "message": data["upsertLever"]["message"]}
    unknown_tier = {"field": "valueTier", "op": "EQ", "value": "DIAMOND"}
    data = await gql(UPSERT_LEVER, {"input": {"key": "D", "name": "D", "eligibility": unknown_tier}})
    assert data["upsertLever"]["field"] == "eligibility.value"
    events = {"field": "events.count", "eventType": "PURCHASE", "op": "GT", "value": 1}
    data = await gql(UPSERT_LEVER, {"input": {"key": "D", "name": "D", "eligibility": events}})
    assert data["upsertLever"]["field"] == "eligibility.field"
    context = {"field": "context.channel", "op": "IN", "value": ["web", "app"]}
    data = await gql(UPSERT_LEVER, {"input": {"key": "D", "name": "D", "eligibility": context}})
    assert data["upsertLever"] == {"__typename": "Lever", "key": "D", "eligibility": context}
    assert [lever.key for lever in await services.offers.catalog.levers()] == ["D"]


async def test_context_rules_read_the_request_context(services: Services) -> None:
    await portfolio(services)
    web_only = LeverDraft("WEB_COUPON", "Web coupon", "DISCOUNT", discount_percent=5,
                          eligibility={"field": "context.channel", "op": "EQ", "value": "web"})
    await services.offers.catalog.upsert_lever(web_only)
    await services.offers.catalog.upsert_lever(LeverDraft("NO_ACTION", "Nothing", "NO_ACTION"))
    await services.offers.catalog.configure(
        DecisionPointDraft("CHECKOUT", ("WEB_COUPON", "NO_ACTION"), policy=Policy("RANDOM"), features=("valueTier",))
    )
    web = await services.offers.decisions.decide(DecideRequest("CHECKOUT", "c0", context={"channel": "web"}))
    app = await services.offers.decisions.decide(DecideRequest("CHECKOUT", "c0", context={"channel": "app"}))
    bare = await services.offers.decisions.decide(DecideRequest("CHECKOUT", "c0"))
    assert set(web.candidates) == {"WEB_COUPON", "NO_ACTION"}
    assert app.candidates == ("NO_ACTION",) and bare.candidates == ("NO_ACTION",)


RULES = [
    GOLD_OR_BETTER,
    PRICE_CHURN,
    TENURED,
    {"not": TENURED},
    {"field": "churnReason", "op": "NEQ", "value": "PRICE"},
    {"field": "openAlerts", "op": "GTE", "value": 0},
    {"any": [{"field": "rfm.segment", "op": "IS_NULL", "value": True}, {"field": "purchaseCount", "op": "GT", "value": 1}]},
    {"field": "attributes.age", "op": "GTE", "value": 40},
    {"not": {"field": "attributes.age", "op": "LT", "value": 40}},
    {"field": "attributes.age", "op": "NEQ", "value": 34},
    {"field": "alerts.open", "op": "CONTAINS", "value": "COMPLAINT"},
    {"not": {"field": "daysSinceLastPurchase", "op": "LT", "value": 3}},
    {"field": "monetaryTotal", "op": "GT", "value": 500},
    {"field": "stage", "op": "IN", "value": ["GROWTH", "CHURNED"]},
]


async def test_in_memory_eligibility_equals_the_segment_sql(services: Services) -> None:
    await portfolio(services)
    ages = [CustomerDraft(external_id="a1", attributes={"age": 34}), CustomerDraft(external_id="a2", attributes={"age": "old"}),
            CustomerDraft(external_id="a3", attributes={"age": 61}), CustomerDraft(external_id="a4", attributes={"age": None})]
    assert not (await services.customers.upsert_many(ages)).errors
    assert not (await services.events.record_many([EventDraft("c2", "COMPLAINT", NOW - timedelta(days=1))])).errors
    async with services.sessions() as session:
        facts = await offer_features.facts_by_ids(
            session, list(range(1, 100)), alerts=True, churn_reason=True, alert_types=True
        )
        dialect = dialect_name(session)
        for rule in RULES:
            sql = set((await session.scalars(matching(compile_sql(rule, dialect=dialect, now=NOW)))).all())
            memory = {f.id for f in facts if compile_rule(rule).allows(f, {}, NOW)}
            assert memory == sql, rule
    assert len(facts) == 15


async def _facts(services: Services, externals: tuple[str, ...]) -> dict[str, int]:
    async with services.sessions() as session:
        rows = await offer_features.facts_by_external_ids(session, externals, alerts=False, churn_reason=False)
    return {r.external_id: r.id for r in rows}


def test_a_rule_reading_events_is_refused_for_eligibility() -> None:
    with pytest.raises(InvalidInput) as caught:
        compile_rule({"all": [TENURED, {"field": "referralCount", "op": "GT", "value": 0}]})
    assert caught.value.field == "eligibility.all[1].field"


async def test_ranked_levers_lists_only_eligible_levers_best_first(services: Services) -> None:
    """The hook for fallbacks (e.g. a budget refusing the served lever): choose() rows ranked."""
    from services.offers import choice, lever_guard

    await portfolio(services)
    await configure(services, objective="NET_VALUE")
    point = next(p for p in await services.offers.catalog.decision_points() if p.key == "RETENTION")
    levers = await services.offers.catalog.levers_by_keys(list(point.levers))
    guard = lever_guard.guard_for(point, levers)
    async with services.sessions() as session:
        facts = await offer_features.facts_by_external_ids(session, ["c0", "c4", "p0"], alerts=False, churn_reason=True)
    arms = await services.offers.registry.serving_arms(point)
    chunk = choice.choose(arms, guard, facts, [{}] * 3, list(point.levers), NOW, request_id=None, activate=True)
    assert not chunk.refused
    for row in chunk.rows:
        ranked = choice.ranked_levers(row)
        ext = row["_external_id"]
        assert set(ranked) == EXPECTED[ext] and ranked[0] == row["lever_key"]
        scores = {e["lever"]: e["score"] for e in row["explanation"]["estimates"]}
        rest = [scores[lever] for lever in ranked[1:]]
        assert rest == sorted(rest, reverse=True)
