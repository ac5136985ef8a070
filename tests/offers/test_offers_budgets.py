"""Budgets: spend caps reserved atomically with the decision, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from db.models import Budget, BudgetUsage, Decision
from db.session import make_engine
from services.container import Services
from services.domain import CustomerDraft, EventDraft
from services.offers.budgets import BudgetDraft
from services.offers.refusals import BudgetExhausted
from services.offers.values import DecideRequest, DecisionPointDraft, LeverDraft, Policy
from tests.conftest import start_server, stop_server

CONFIGURE = """
mutation($input: BudgetInput!) {
  configureBudget(input: $input) {
    __typename
    ... on Budget { key leverKey decisionPointKey period days maxCount maxCost fallback used remaining resetsAt }
    ... on InvalidInput { field message }
  }
}
"""
BUDGETS = "{ budgets { key used remaining maxCount maxCost periodStart resetsAt } }"
DECIDE = """
mutation($input: DecideInput!) {
  decide(input: $input) {
    __typename
    ... on Decision { id lever { key } propensity candidates }
    ... on BudgetExhausted { budget leverKey resetsAt message }
  }
}
"""


async def _catalogue(services: Services, policy: str = "RANDOM") -> None:
    for lever in (
        LeverDraft("DISCOUNT_20", "20% off", "DISCOUNT", discount_percent=20, contact_cost=1),
        LeverDraft("FREE_SHIPPING", "Free shipping", "FREE_SHIPPING", unit_cost=4),
        LeverDraft("NO_ACTION", "Nothing", "NO_ACTION"),
    ):
        await services.offers.catalog.upsert_lever(lever)
    await services.offers.catalog.configure(
        DecisionPointDraft("RETENTION", ("DISCOUNT_20", "FREE_SHIPPING", "NO_ACTION"), policy=Policy(policy, seed=5))
    )


async def _decision_count(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Decision)) or 0)


async def test_configure_budget_names_the_bad_field(gql, services) -> None:
    await _catalogue(services)
    base = {"key": "b", "period": "DAY", "leverKey": "DISCOUNT_20", "maxCount": 5}
    cases = [
        ({"key": "no spaces"}, "key"),
        ({"leverKey": None}, "leverKey"),
        ({"leverKey": "GHOST"}, "leverKey"),
        ({"decisionPointKey": "NOPE"}, "decisionPointKey"),
        ({"period": "DAYS"}, "days"),
        ({"days": 3}, "days"),
        ({"maxCost": 10.0}, "maxCount"),
        ({"maxCount": -1}, "maxCount"),
        ({"maxCount": None, "maxCost": -5.0}, "maxCost"),
    ]
    for change, field in cases:
        result = (await gql(CONFIGURE, {"input": {**base, **change}}))["configureBudget"]
        assert result["__typename"] == "InvalidInput" and result["field"] == field, (change, result)
    assert (await gql(BUDGETS))["budgets"] == []
    made = (await gql(CONFIGURE, {"input": {**base, "period": "DAYS", "days": 7}}))["configureBudget"]
    assert made["__typename"] == "Budget" and made["days"] == 7 and made["used"] == 0 and made["remaining"] == 5


async def test_a_count_budget_grants_up_to_its_cap_then_answers_budget_exhausted(services, gql) -> None:
    await _catalogue(services)
    await services.customers.upsert_many([CustomerDraft(external_id="c-1")])
    await gql(CONFIGURE, {"input": {"key": "retention-day", "period": "DAY", "decisionPointKey": "RETENTION", "maxCount": 3}})
    request = {"decisionPoint": "RETENTION", "externalId": "c-1", "candidates": ["DISCOUNT_20", "FREE_SHIPPING"]}
    results = [(await gql(DECIDE, {"input": request}))["decide"] for _ in range(5)]
    assert [r["__typename"] for r in results] == ["Decision"] * 3 + ["BudgetExhausted"] * 2
    refused = results[-1]
    assert refused["budget"] == "retention-day" and refused["leverKey"] in ("DISCOUNT_20", "FREE_SHIPPING")
    assert refused["resetsAt"].endswith("00:00:00+00:00")
    # NO_ACTION is not an offer: it passes a spent budget and takes nothing from it.
    nothing = (await gql(DECIDE, {"input": {**request, "candidates": ["NO_ACTION"]}}))["decide"]
    assert nothing["__typename"] == "Decision"
    state = (await gql(BUDGETS))["budgets"]
    assert [(b["key"], b["used"], b["remaining"]) for b in state] == [("retention-day", 3.0, 0.0)]
    assert await _decision_count(services) == 4


async def test_a_replayed_request_id_does_not_consume_budget_twice(services) -> None:
    await _catalogue(services)
    await services.customers.upsert_many([CustomerDraft(external_id="c-1")])
    await services.offers.budgets.configure(BudgetDraft("b", "MONTH", lever="FREE_SHIPPING", max_count=10))
    request = DecideRequest("RETENTION", "c-1", request_id="r-1", candidates=("FREE_SHIPPING",))
    first = await services.offers.decisions.decide(request)
    again = await services.offers.decisions.decide(request)
    assert first == again
    [state] = await services.offers.budgets.states()
    assert state.used == 1.0 and state.remaining == 9.0


async def test_a_money_budget_reserves_the_committed_cost_from_the_average_order_value(services) -> None:
    await _catalogue(services)
    await services.customers.upsert_many([CustomerDraft(external_id="c-1")])
    await services.events.record_many([
        EventDraft(external_id="c-1", type="PURCHASE", occurred_at=_at(day), amount=amount)
        for day, amount in ((1, 40.0), (2, 60.0))
    ])
    # average order value 50: 20 % of it plus 1 contact cost = 11 per DISCOUNT_20 offer
    await services.offers.budgets.configure(BudgetDraft("money", "WEEK", lever="DISCOUNT_20", max_cost=25.0))
    request = DecideRequest("RETENTION", "c-1", candidates=("DISCOUNT_20",))
    await services.offers.decisions.decide(request)
    await services.offers.decisions.decide(request)
    try:
        await services.offers.decisions.decide(request)
        raise AssertionError("a third 11.0 offer must not fit in 25.0")
    except BudgetExhausted as exc:
        assert exc.budget == "money" and exc.lever == "DISCOUNT_20"
    [state] = await services.offers.budgets.states()
    assert state.used == 22.0 and state.remaining == 3.0


async def test_fallback_chooses_again_without_the_spent_lever_and_logs_the_reduced_propensity(services) -> None:
    await _catalogue(services)
    await services.customers.upsert_many([CustomerDraft(external_id="c-1")])
    await services.offers.budgets.configure(BudgetDraft("d", "DAY", lever="DISCOUNT_20", max_count=0, fallback=True))
    shapes = Counter()
    for _ in range(20):
        decision = await services.offers.decisions.decide(
            DecideRequest("RETENTION", "c-1", candidates=("DISCOUNT_20", "FREE_SHIPPING"))
        )
        assert decision.lever == "FREE_SHIPPING"
        shapes[(decision.candidates, decision.propensity)] += 1
    # chosen at once (one of two, RANDOM) or after the fallback (the only candidate left)
    assert set(shapes) == {(("DISCOUNT_20", "FREE_SHIPPING"), 0.5), (("FREE_SHIPPING",), 1.0)}


def _at(day: int) -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 11, day, 12, tzinfo=UTC)


# -- through the HTTP server, 200 at once -----------------------------------------------------


async def _prepare(database_url: str, customers: int) -> None:
    engine = make_engine(database_url)
    try:
        services = Services.build(engine)
        await services.customers.upsert_many([CustomerDraft(external_id=f"h-{i}") for i in range(customers)])
        await _catalogue(services)
    finally:
        await engine.dispose()


async def _fire(url: str, budget: dict[str, Any], candidates: list[str], calls: int = 200) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    limits = httpx.Limits(max_connections=calls, max_keepalive_connections=calls)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        made = (await client.post("/graphql", json={"query": CONFIGURE, "variables": {"input": budget}})).json()
        assert made["data"]["configureBudget"]["__typename"] == "Budget", made

        async def one(i: int) -> dict[str, Any]:
            request = {"decisionPoint": "RETENTION", "externalId": f"h-{i % 40}", "candidates": candidates}
            response = await client.post("/graphql", json={"query": DECIDE, "variables": {"input": request}})
            body = response.json()
            assert "errors" not in body, body
            return body["data"]["decide"]

        results = await asyncio.gather(*(one(i) for i in range(calls)))
        state = (await client.post("/graphql", json={"query": BUDGETS})).json()["data"]["budgets"]
    return list(results), state


async def test_200_concurrent_decides_over_http_grant_exactly_a_cap_of_50(database_url: str) -> None:
    await _prepare(database_url, 40)
    server = start_server(database_url)
    try:
        budget = {"key": "cap-50", "period": "DAY", "decisionPointKey": "RETENTION", "maxCount": 50}
        results, state = await _fire(server.url, budget, ["DISCOUNT_20", "FREE_SHIPPING"])
    finally:
        stop_server(server)
    kinds = Counter(r["__typename"] for r in results)
    assert kinds == {"Decision": 50, "BudgetExhausted": 150}
    assert all(r["budget"] == "cap-50" and r["resetsAt"] for r in results if r["__typename"] == "BudgetExhausted")
    assert [(b["key"], b["used"], b["remaining"]) for b in state] == [("cap-50", 50.0, 0.0)]
    engine = make_engine(database_url)
    try:
        assert await _decision_count(Services.build(engine)) == 50
    finally:
        await engine.dispose()


async def test_200_concurrent_decides_over_http_fall_back_when_the_lever_budget_is_spent(database_url: str) -> None:
    await _prepare(database_url, 40)
    server = start_server(database_url)
    try:
        budget = {"key": "discounts", "period": "WEEK", "leverKey": "DISCOUNT_20", "maxCount": 50, "fallback": True}
        results, state = await _fire(server.url, budget, ["DISCOUNT_20", "FREE_SHIPPING"])
    finally:
        stop_server(server)
    assert all(r["__typename"] == "Decision" for r in results)
    levers = Counter(r["lever"]["key"] for r in results)
    # RANDOM picks DISCOUNT_20 about 100 times in 200: 50 are granted, the rest fall back
    assert levers == {"DISCOUNT_20": 50, "FREE_SHIPPING": 150}
    shapes = Counter((tuple(r["candidates"]), r["propensity"]) for r in results if r["lever"]["key"] == "FREE_SHIPPING")
    assert set(shapes) == {(("DISCOUNT_20", "FREE_SHIPPING"), 0.5), (("FREE_SHIPPING",), 1.0)}, shapes
    assert [(b["key"], b["used"]) for b in state] == [("discounts", 50.0)]


# -- property: never over-granted ---------------------------------------------------------------


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(cap=st.integers(min_value=0, max_value=6), calls=st.integers(min_value=0, max_value=12), data=st.data())
async def test_property_concurrent_decides_never_over_grant_a_budget(services, cap: int, calls: int, data: Any) -> None:
    if not await services.offers.catalog.levers():
        await _catalogue(services)
        await services.customers.upsert_many([CustomerDraft(external_id=f"p-{i}") for i in range(3)])
    async with services.sessions.begin() as session:  # each example starts without budgets
        await session.execute(delete(BudgetUsage))
        await session.execute(delete(Budget))
    key = f"p-{data.draw(st.integers(min_value=0, max_value=10**9))}"
    await services.offers.budgets.configure(BudgetDraft(key, "DAYS", lever="FREE_SHIPPING", days=30, max_count=cap))

    async def one(i: int) -> bool:
        try:
            await services.offers.decisions.decide(DecideRequest("RETENTION", f"p-{i % 3}", candidates=("FREE_SHIPPING",)))
            return True
        except BudgetExhausted:
            return False

    granted = sum(await asyncio.gather(*(one(i) for i in range(calls))))
    [after] = await services.offers.budgets.states()
    assert granted == min(cap, calls)
    assert after.used == granted <= cap


async def test_decide_batch_grants_budget_in_input_order_and_reports_the_rest_by_index(services) -> None:
    from services.offers.contact_policy import ContactLimit, ContactPolicy
    from services.offers.values import BatchRequest

    await _catalogue(services)
    ids = [f"b-{i}" for i in range(10)]
    await services.customers.upsert_many([CustomerDraft(external_id=e) for e in ids])
    await services.offers.budgets.configure(BudgetDraft("cap-4", "DAY", decision_point="RETENTION", max_count=4))
    offers = ("DISCOUNT_20", "FREE_SHIPPING")
    result = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", tuple(ids), candidates=offers))
    assert len(result.decisions) == 4 and [e.index for e in result.errors] == [4, 5, 6, 7, 8, 9]
    assert {e.field for e in result.errors} == {"budget"} and "cap-4" in result.errors[0].message
    assert await _decision_count(services) == 4
    # a lever budget with fallback: the spent lever's customers get the other one, all in one call
    await services.offers.budgets.configure(BudgetDraft("cap-4", "DAY", decision_point="RETENTION", max_count=1000))
    await services.offers.budgets.configure(BudgetDraft("d", "DAY", lever="DISCOUNT_20", max_count=2, fallback=True))
    again = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", tuple(ids), candidates=offers))
    assert not again.errors and len(again.decisions) == 10
    assert Counter(d.lever for d in again.decisions)["DISCOUNT_20"] <= 2
    # contact policy in a batch: everyone was contacted today already
    await services.offers.contacts.configure(ContactPolicy("RETENTION", limits=(ContactLimit(1, 1),)))
    blocked = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", tuple(ids), candidates=offers))
    assert not blocked.decisions and {e.field for e in blocked.errors} == {"contactPolicy"} and len(blocked.errors) == 10
    states = {s.budget.key: s.used for s in await services.offers.budgets.states()}
    assert states["d"] <= 2 and states["cap-4"] == 14
