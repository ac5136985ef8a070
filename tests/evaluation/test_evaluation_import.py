"""importDecisionLog and `ciclo import decisions`: a generated campaign reproduced exactly by the
reports, per-row errors, duplicates, and warm-start learning that keeps replay == incremental."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from api.cli import main
from db.models import Customer, Decision, Outcome
from db.repositories import outcomes as outcome_repo
from db.session import make_engine
from engine import OutcomeRecord, rebuild
from services.container import Services
from services.evaluation.log_import import LoggedDecisionDraft
from services.offers.registry import template_model
from services.offers.values import DecideRequest, LeverDraft, OutcomeReport
from services.reports.values import ReportFilter
from tests.evaluation.campaign import expected_per_arm, generate_campaign, graphql_rows, uplift_vs_control, write_csv
from tests.evaluation.conftest import configure_winback
from tests.offers.test_offers_learning import assert_same_parameters

IMPORT = """mutation($rows: [LoggedDecisionInput!]!, $warm: Boolean) {
  importDecisionLog(input: $rows, warmStart: $warm) { accepted duplicates customersCreated errors { index field message } }
}"""
STATS = """query { leverStats(decisionPoint: "WINBACK") { lever { key } decisions activated outcomes accepted acceptRate revenue } }"""
PERFORMANCE = """query { leverPerformance(decisionPoint: "WINBACK") { leverKey isControl decisions outcomes accepted acceptRate
  revenue revenuePerDecision upliftVsControl { acceptRate revenuePerDecision controlOutcomes } } }"""


def assert_stats_match_the_file(stats: dict[str, dict], rows: list[dict]) -> None:
    expected = expected_per_arm(rows)
    assert set(stats) == set(expected)
    for arm, want in expected.items():
        got = stats[arm]
        assert got["decisions"] == got["outcomes"] == got["activated"] == want.decisions
        assert got["accepted"] == want.accepted
        assert got["acceptRate"] == pytest.approx(want.accept_rate, rel=1e-12)
        assert got["revenue"] == pytest.approx(want.revenue, rel=1e-12)
        assert got["revenue"] / got["decisions"] == pytest.approx(want.revenue_per_decision, rel=1e-12)


def assert_performance_matches_the_file(performance: dict[str, dict], rows: list[dict]) -> None:
    """leverPerformance per arm against the file: accept rate and revenue per decision (every row
    has an outcome, so per outcome is per decision), and each arm's uplift over the NO_ACTION arm."""
    expected, uplift = expected_per_arm(rows), uplift_vs_control(rows)
    assert set(performance) == set(expected)
    for arm, want in expected.items():
        got = performance[arm]
        assert got["decisions"] == got["outcomes"] == want.decisions and got["accepted"] == want.accepted
        assert got["acceptRate"] == pytest.approx(want.accept_rate, rel=1e-9, abs=1e-9)
        assert got["revenue"] == pytest.approx(want.revenue, rel=1e-9, abs=1e-9)
        assert got["revenuePerDecision"] == pytest.approx(want.revenue_per_decision, rel=1e-9, abs=1e-9)
        if arm == "NO_ACTION":
            assert got["isControl"] and got["upliftVsControl"] is None
            continue
        rate, revenue = uplift[arm]
        assert got["upliftVsControl"]["controlOutcomes"] == expected["NO_ACTION"].decisions
        assert got["upliftVsControl"]["acceptRate"] == pytest.approx(rate, rel=1e-9, abs=1e-9)
        assert got["upliftVsControl"]["revenuePerDecision"] == pytest.approx(revenue, rel=1e-9, abs=1e-9)


def by_lever(stats: list[dict]) -> dict[str, dict]:
    return {s["lever"]["key"]: s for s in stats}


async def test_a_campaign_imported_through_graphql_is_reproduced_exactly_by_lever_stats(services, gql, winback) -> None:
    await winback()
    rows = generate_campaign(1500, seed=11)
    result = (await gql(IMPORT, {"rows": graphql_rows(rows)}))["importDecisionLog"]
    assert result == {"accepted": 1500, "duplicates": 0, "customersCreated": 751, "errors": []}
    stats = by_lever((await gql(STATS))["leverStats"])
    assert_stats_match_the_file(stats, rows)
    control = stats["NO_ACTION"]
    for arm, (rate, revenue) in uplift_vs_control(rows).items():
        assert stats[arm]["acceptRate"] - control["acceptRate"] == pytest.approx(rate, abs=1e-12)
        per_decision = stats[arm]["revenue"] / stats[arm]["decisions"] - control["revenue"] / control["decisions"]
        assert per_decision == pytest.approx(revenue, abs=1e-9)
    performance = {p["leverKey"]: p for p in (await gql(PERFORMANCE))["leverPerformance"]}
    assert_performance_matches_the_file(performance, rows)
    # The same once the reports read the rollup (twice: PostgreSQL moves to the ids seen before).
    assert await services.lever_rollup.refresh() + await services.lever_rollup.refresh() == 1
    rolled = {p["leverKey"]: p for p in (await gql(PERFORMANCE))["leverPerformance"]}
    assert_performance_matches_the_file(rolled, rows)
    again = (await gql(IMPORT, {"rows": graphql_rows(rows[:10])}))["importDecisionLog"]
    assert again["accepted"] == 0 and again["duplicates"] == 10
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Decision).where(Decision.imported)) == 1500
        created = await session.scalar(select(Customer).where(Customer.external_id == "hist-11-0"))
        assert created.attributes == {"source": "crm-2025"}


async def _configure(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await configure_winback(Services.build(engine))
    finally:
        await engine.dispose()


async def _lever_performance(database_url: str) -> dict[str, dict]:
    """leverPerformance's values, in its GraphQL field names."""
    engine = make_engine(database_url)
    try:
        rows = await Services.build(engine).lever_reports.performance("WINBACK", ReportFilter())
    finally:
        await engine.dispose()
    return {
        p.lever: {
            "isControl": p.is_control, "decisions": p.decisions, "outcomes": p.outcomes, "accepted": p.accepted,
            "acceptRate": p.accept_rate.value, "revenue": p.revenue, "revenuePerDecision": p.revenue_per_decision.value,
            "upliftVsControl": None if p.uplift is None else {
                "acceptRate": p.uplift.accept_rate.value, "revenuePerDecision": p.uplift.revenue_per_decision.value,
                "controlOutcomes": p.uplift.control_outcomes,
            },
        }
        for p in rows
    }


async def _lever_stats(database_url: str) -> dict[str, dict]:
    engine = make_engine(database_url)
    try:
        stats = await Services.build(engine).offers.outcomes.lever_stats("WINBACK")
    finally:
        await engine.dispose()
    return {
        s.lever: {"decisions": s.decisions, "activated": s.activated, "outcomes": s.outcomes, "accepted": s.accepted,
                  "acceptRate": s.acceptance_rate, "revenue": s.revenue}
        for s in stats
    }


def test_a_campaign_imported_from_csv_is_reproduced_exactly_and_bad_rows_are_reported_by_line(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_configure(database_url))
    rows = generate_campaign(2400, seed=5)
    path = write_csv(rows, tmp_path / "campaign.csv")
    assert main(["import", "decisions", str(path), "--batch-size", "500", "--database-url", database_url]) == 0
    assert "accepted 2400, duplicates 0, rejected 0" in capsys.readouterr().out
    assert_stats_match_the_file(asyncio.run(_lever_stats(database_url)), rows)
    assert_performance_matches_the_file(asyncio.run(_lever_performance(database_url)), rows)

    bad = generate_campaign(4, seed=6)
    bad[0]["decidedAt"] = "2025-03-01T10:00:00"  # no zone
    bad[1]["lever"] = "DISCOUNT_99"
    bad[2]["propensity"] = 0
    path = write_csv(bad, tmp_path / "bad.csv")
    assert main(["import", "decisions", str(path), "--database-url", database_url]) == 1
    printed = capsys.readouterr().out
    assert "accepted 1, duplicates 0, rejected 3" in printed
    assert "line 2: decidedAt: '2025-03-01T10:00:00' has no time zone" in printed
    assert "line 3: lever: no lever with key 'DISCOUNT_99'" in printed
    assert "line 4: propensity: must be in (0, 1], got 0.0" in printed
    (tmp_path / "odd.csv").write_text("externalId,decisionPoint,lever,decidedAt,accepted,colour\n")
    assert main(["import", "decisions", str(tmp_path / "odd.csv"), "--database-url", database_url]) == 2


async def test_rejected_rows_store_nothing_not_even_their_customer(services, gql, winback) -> None:
    await winback()
    good = {"externalId": "h-1", "decisionPoint": "WINBACK", "lever": "NO_ACTION", "propensity": None,
            "decidedAt": "2025-01-02T10:00:00+01:00", "accepted": False, "features": {"context.tier": "LOW"}}
    rows = [
        good,
        {**good, "externalId": "h-2", "decisionPoint": "NOPE"},
        {**good, "externalId": "h-3", "features": {"context.colour": "red"}},
        {**good, "externalId": "h-4", "features": {"context.tier": {"nested": 1}}},
        {**good, "externalId": "h-5", "revenue": -3},
        {**good, "externalId": "h-6", "decidedAt": "2025-01-02T10:00:00"},
        {**good, "externalId": "h-7", "attributes": [1, 2]},
        {**good, "externalId": "h-8", "lever": "FREE_SHIPPING"},
    ]
    await services.offers.catalog.upsert_lever(LeverDraft("FREE_SHIPPING", "Free shipping"))  # exists, not at WINBACK
    result = (await gql(IMPORT, {"rows": rows}))["importDecisionLog"]
    assert result["accepted"] == 1
    assert [(e["index"], e["field"]) for e in result["errors"]] == [
        (1, "decisionPoint"), (2, "features.context.colour"), (3, "features.context.tier"), (4, "revenue"),
        (5, "decidedAt"), (6, "attributes"), (7, "lever"),
    ]
    assert "not a lever of decision point 'WINBACK'" in result["errors"][-1]["message"]
    async with services.sessions() as session:
        customers = set((await session.scalars(select(Customer.external_id))).all())
        stored = (await session.execute(select(Decision.propensity, Decision.imported))).all()
    assert customers == {"h-1"}
    assert stored == [(None, True)]
    view = await gql("""{ customerByExternalId(externalId: "h-1") {
        decisions(first: 5) { lever { key } propensity imported createdAt outcome { accepted } } } }""")
    assert view["customerByExternalId"]["decisions"] == [
        {"lever": {"key": "NO_ACTION"}, "propensity": None, "imported": True,
         "createdAt": "2025-01-02T09:00:00+00:00", "outcome": {"accepted": False}}
    ]
    too_many = (await gql(IMPORT, {"rows": [good] * 10_001}))["importDecisionLog"]
    assert too_many["accepted"] == 0 and too_many["errors"][0]["index"] is None


async def test_the_database_refuses_a_live_decision_without_propensity(services, winback, make_customer) -> None:
    point = await winback()
    customer = await make_customer()
    with pytest.raises(Exception, match="(?i)check|constraint"):
        async with services.sessions.begin() as session:
            await session.execute(text(
                "INSERT INTO decisions (decision_point_id, customer_id, lever_key, expected_reward, candidates, features,"
                " context, explanation, config_version, model_version, created_at, imported)"
                " VALUES (:p, :c, 'NO_ACTION', 0, '[]', '[]', '{}', '{}', 1, 0, :t, false)"
            ), {"p": point.id, "c": customer, "t": datetime.now(UTC)})


async def learnable_log(services: Services, point) -> list[OutcomeRecord]:
    async with services.sessions() as session:
        rows = await outcome_repo.tail(session, point.id, point.version, 0, 1_000_000)
    return [OutcomeRecord(r[0], r[1], float(r[2]), tuple(r[3])) for r in rows]


async def test_only_warm_start_imports_are_learned_and_a_rebuild_from_the_log_equals_the_live_model(
    services, winback, make_customer
) -> None:
    point = await winback()
    drafts = [
        LoggedDecisionDraft(r["externalId"], "WINBACK", r["lever"], datetime.fromisoformat(r["decidedAt"]),
                            r["accepted"], r["revenue"], r["propensity"], r["features"])
        for r in generate_campaign(300, seed=2)
    ]
    log = services.evaluation.log
    assert (await log.import_many(drafts[:100])).accepted == 100
    await services.offers.sync()
    assert services.offers.registry.loaded(point.id).learner.outcomes_applied == 0
    # live traffic between the imports
    await make_customer(external_id="live-1")
    decision = await services.offers.decisions.decide(DecideRequest("WINBACK", "live-1", context={"price_sensitive": True, "tier": "LOW"}))
    await services.offers.outcomes.record(OutcomeReport(decision.id, True, 10.0))
    assert (await log.import_many(drafts[100:], warm_start=True)).accepted == 200
    await services.offers.sync()
    learner = services.offers.registry.loaded(point.id).learner
    assert learner.outcomes_applied == 201
    records = await learnable_log(services, point)
    assert len(records) == 201
    assert_same_parameters(learner.model, rebuild(template_model(point), records))
    async with services.sessions() as session:
        skipped = await session.scalar(select(func.count()).select_from(Outcome).where(Outcome.learnable.is_(False)))
    assert skipped == 100
