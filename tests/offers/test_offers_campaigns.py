"""Cross-sell campaigns: ranking by expected value, guards, results per lever and against control."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from api.cli import main
from services.domain import CustomerDraft
from services.offers.budgets import BudgetDraft
from services.offers.campaigns import CampaignDraft
from services.offers.contact_policy import ContactLimit, ContactPolicy
from services.offers.values import DecideRequest, DecisionPointDraft, LeverDraft, OutcomeReport, Policy

CREATE = """
mutation($input: CampaignInput!) {
  createCampaign(input: $input) {
    __typename
    ... on Campaign { id name ranked targeted skipped { reason count } limit deferActivation
                      targets(first: 50) { lever { key } activatedAt customer { externalId } } }
    ... on UnknownDecisionPoint { key } ... on SegmentNotFound { key } ... on InvalidInput { field }
  }
}
"""
REPORT = """
query($id: ID!) { campaign(id: $id) { name report {
  levers { leverKey targets activated outcomes accepted acceptRate revenue cost }
  treated { targets accepted acceptRate revenue cost } control { targets accepted acceptRate } uplift } } }
"""


async def _setup(services: Any, customers: int = 12) -> None:
    """Customers whose ``value`` attribute drives what the model learns: DISCOUNT pays with high value."""
    for lever in (
        LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10, contact_cost=0.5),
        LeverDraft("NO_ACTION", "Nothing", "NO_ACTION"),
    ):
        await services.offers.catalog.upsert_lever(lever)
    drafts = [CustomerDraft(external_id=f"m-{i:02d}", attributes={"value": float(i)}) for i in range(customers)]
    await services.customers.upsert_many(drafts)
    await services.segments.upsert("all", "All", None)
    await services.segments.change_members("all", [d.external_id for d in drafts], add=True)
    await services.offers.catalog.configure(DecisionPointDraft(
        "CROSS_SELL", ("DISCOUNT_10", "NO_ACTION"), features=("attributes.value",), reward="REVENUE",
        policy=Policy("LIN_UCB", alpha=0.01, seed=2),
    ))
    # teach the model: revenue from a discount grows with the customer's value
    for round_ in range(3):
        for i in range(customers):
            d = await services.offers.decisions.decide(
                DecideRequest("CROSS_SELL", f"m-{i:02d}", candidates=("DISCOUNT_10",), request_id=f"t{round_}-{i}")
            )
            await services.offers.outcomes.record(OutcomeReport(d.id, accepted=True, revenue=10.0 * i))
    await services.offers.sync()


async def test_a_campaign_targets_the_highest_expected_value_first_and_logs_under_its_id(gql, services) -> None:
    await _setup(services)
    made = (await gql(CREATE, {"input": {"name": "Otoño", "decisionPoint": "CROSS_SELL", "segmentKey": "all", "limit": 4}}))["createCampaign"]
    assert made["__typename"] == "Campaign" and made["ranked"] == 12 and made["targeted"] == 4 and made["skipped"] == []
    assert made["deferActivation"] is True and all(t["activatedAt"] is None for t in made["targets"])
    assert [t["customer"]["externalId"] for t in made["targets"]] == ["m-11", "m-10", "m-09", "m-08"]
    from sqlalchemy import func, select

    from db.models import Decision

    async with services.sessions() as session:
        tagged = await session.scalar(select(func.count()).select_from(Decision).where(Decision.campaign_id == int(made["id"])))
    assert tagged == 4


async def test_a_campaign_skips_customers_the_contact_policy_or_a_budget_refuses_and_fills_from_the_ranking(services) -> None:
    await _setup(services)
    await services.offers.contacts.configure(ContactPolicy("CROSS_SELL", limits=(ContactLimit(4, 7),)))
    # the training contacted everyone 3 times: one more contact each is allowed; m-11 gets it now
    await services.offers.decisions.decide(DecideRequest("CROSS_SELL", "m-11", candidates=("DISCOUNT_10",)))
    await services.offers.budgets.configure(BudgetDraft("cs", "DAY", lever="DISCOUNT_10", max_count=2))
    campaign = await services.offers.campaigns.create(CampaignDraft("c", "CROSS_SELL", "all", 5))
    targets = await services.offers.campaigns.targets(campaign, 0, 10)
    contacted = (await services.customers.get_by_external_id("m-11")).id
    # m-11 is skipped (contact policy); two discounts fit the budget, the later ones are refused
    assert campaign.skipped["contactPolicy"] == 1 and campaign.skipped["budget"] >= 1
    # the model offers the discount to nearly everyone: the segment runs out before 5 targets
    assert campaign.targeted == len(targets) < 5 and contacted not in [t.customer_id for t in targets]
    assert sum(t.lever == "DISCOUNT_10" for t in targets) == 2
    assert campaign.targeted + campaign.skipped["budget"] + 1 == campaign.ranked == 12
    [budget] = await services.offers.budgets.states()
    assert budget.used == 2.0


async def test_campaign_report_counts_outcomes_revenue_and_cost_per_lever_against_control(gql, services) -> None:
    await _setup(services, customers=8)
    campaign = await services.offers.campaigns.create(CampaignDraft("r", "CROSS_SELL", "all", 8, defer_activation=False))
    targets = await services.offers.campaigns.targets(campaign, 0, 10)
    for t in targets:
        accepted = t.lever == "DISCOUNT_10"
        await services.offers.outcomes.record(OutcomeReport(t.id, accepted=accepted, revenue=100.0 if accepted else None))
    report = (await gql(REPORT, {"id": str(campaign.id)}))["campaign"]["report"]
    levers = {row["leverKey"]: row for row in report["levers"]}
    offered = sum(1 for t in targets if t.lever == "DISCOUNT_10")
    control = len(targets) - offered
    if offered:
        d = levers["DISCOUNT_10"]
        assert (d["targets"], d["activated"], d["outcomes"], d["accepted"]) == (offered, offered, offered, offered)
        assert d["revenue"] == 100.0 * offered and d["cost"] == (10.0 + 0.5) * offered and d["acceptRate"] == 1.0
    assert report["treated"]["targets"] == offered and report["control"]["targets"] == control
    if offered and control:
        assert report["control"]["acceptRate"] == 0.0 and report["uplift"] == 1.0


async def test_create_campaign_errors_name_the_problem(gql, services) -> None:
    await _setup(services, customers=2)
    base = {"name": "x", "decisionPoint": "CROSS_SELL", "segmentKey": "all", "limit": 2}
    assert (await gql(CREATE, {"input": {**base, "decisionPoint": "NOPE"}}))["createCampaign"]["key"] == "NOPE"
    assert (await gql(CREATE, {"input": {**base, "segmentKey": "nope"}}))["createCampaign"] == {"__typename": "SegmentNotFound", "key": "nope"}
    assert (await gql(CREATE, {"input": {**base, "limit": 0}}))["createCampaign"]["field"] == "limit"
    assert (await gql(CREATE, {"input": {**base, "name": " "}}))["createCampaign"]["field"] == "name"
    assert await services.offers.campaigns.all() == []


async def _prepare_cli(database_url: str) -> None:
    from db.session import make_engine
    from services.container import Services

    engine = make_engine(database_url)
    try:
        await _setup(Services.build(engine), customers=6)
    finally:
        await engine.dispose()


def test_campaign_cli_writes_ranked_targets_and_reports(database_url: str, tmp_path: Path, capsys) -> None:
    import asyncio

    asyncio.run(_prepare_cli(database_url))
    out = tmp_path / "targets.csv"
    assert main(["campaign", "create", "--name", "cli", "--decision-point", "CROSS_SELL", "--segment", "all",
                 "--limit", "3", "--out", str(out), "--database-url", database_url]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["external_id"] for r in rows] == ["m-05", "m-04", "m-03"] and [r["rank"] for r in rows] == ["1", "2", "3"]
    printed = capsys.readouterr().out
    campaign_id = int(printed.split()[1].rstrip(":"))
    assert main(["campaign", "report", str(campaign_id), "--database-url", database_url]) == 0
    report = capsys.readouterr().out
    assert "TREATED" in report and "CONTROL" in report and "uplift" in report
    assert main(["campaign", "report", "999", "--database-url", database_url]) == 2


async def test_a_customer_whose_offer_levers_are_all_ineligible_is_neither_ranked_nor_targeted(gql, services) -> None:
    await _setup(services)
    # after training, the only offer lever is restricted to customers whose value is at least 5
    await services.offers.catalog.upsert_lever(LeverDraft(
        "DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10, contact_cost=0.5,
        eligibility={"field": "attributes.value", "op": "GTE", "value": 5},
    ))
    made = (await gql(CREATE, {"input": {"name": "e", "decisionPoint": "CROSS_SELL", "segmentKey": "all", "limit": 12}}))["createCampaign"]
    assert made["__typename"] == "Campaign"
    # m-00..m-04 only have NO_ACTION left, which qualifies nobody for a campaign
    assert made["ranked"] == 7 and made["skipped"] == [{"reason": "eligibility", "count": 5}]
    targeted = {t["customer"]["externalId"] for t in made["targets"]}
    assert made["targeted"] == len(targeted) == 7 and targeted == {f"m-{i:02d}" for i in range(5, 12)}


async def test_under_net_value_a_high_value_customer_ranks_above_a_low_value_one_with_the_same_acceptance(services) -> None:
    from datetime import UTC, datetime, timedelta

    from services.domain import EventDraft
    from services.offers.values import Guardrails

    now = datetime.now(UTC).replace(microsecond=0)
    await services.offers.catalog.upsert_lever(LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10, contact_cost=1))
    # the low-value customer is created first: a tie would keep it first
    drafts = [CustomerDraft(external_id=ext) for ext in ("low", "high", "t0", "t1")]
    assert not (await services.customers.upsert_many(drafts)).errors
    events = [
        EventDraft(ext, "PURCHASE", now - timedelta(days=d), amount=amount)
        for ext, amount in (("low", 20.0), ("high", 500.0)) for d in (30, 10)
    ]
    assert not (await services.events.record_many(events)).errors
    await services.segments.upsert("pair", "Pair", None)
    await services.segments.change_members("pair", ["low", "high"], add=True)
    await services.offers.catalog.configure(DecisionPointDraft(
        "CROSS_SELL", ("DISCOUNT_10",), reward="NET_VALUE",
        policy=Policy("EPSILON_GREEDY", epsilon=0.1, seed=3), guardrails=Guardrails(objective="NET_VALUE"),
    ))
    for n in range(6):  # one acceptance estimate for everyone (a context-free policy)
        d = await services.offers.decisions.decide(DecideRequest("CROSS_SELL", f"t{n % 2}", request_id=f"teach-{n}"))
        await services.offers.outcomes.record(OutcomeReport(d.id, accepted=n % 2 == 0, revenue=50.0 if n % 2 == 0 else None))
    await services.offers.sync()
    campaign = await services.offers.campaigns.create(CampaignDraft("v", "CROSS_SELL", "pair", 1))
    [target] = await services.offers.campaigns.targets(campaign, 0, 10)
    high = await services.customers.get_by_external_id("high")
    assert campaign.ranked == 2 and campaign.targeted == 1 and target.customer_id == high.id


async def test_ranking_reads_open_alert_types_for_rules_on_them(services) -> None:
    from datetime import UTC, datetime, timedelta

    from services.domain import EventDraft

    await _setup(services)
    await services.offers.catalog.upsert_lever(LeverDraft(
        "DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10, contact_cost=0.5,
        eligibility={"not": {"field": "alerts.open", "op": "CONTAINS", "value": "COMPLAINT"}},
    ))
    # the best-ranked customer complains: an open COMPLAINT alert makes the discount ineligible
    complaint = EventDraft("m-11", "COMPLAINT", datetime.now(UTC) - timedelta(hours=1))
    assert not (await services.events.record_many([complaint])).errors
    campaign = await services.offers.campaigns.create(CampaignDraft("a", "CROSS_SELL", "all", 12))
    targets = await services.offers.campaigns.targets(campaign, 0, 20)
    complainer = (await services.customers.get_by_external_id("m-11")).id
    assert campaign.ranked == 11 and campaign.skipped == {"eligibility": 1} and campaign.targeted == 11
    assert complainer not in {t.customer_id for t in targets}
