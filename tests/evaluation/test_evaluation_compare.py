"""`ciclo compare` and comparePolicies: replay on the uniformly explored part of an imported log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from api.cli import main
from db.session import make_engine
from services.container import Services
from services.evaluation.log_import import LoggedDecisionDraft
from tests.evaluation.campaign import generate_campaign
from tests.evaluation.conftest import configure_winback

START = datetime(2025, 3, 1, tzinfo=UTC)  # generate_campaign's first decision

COMPARE = """query($p: [PolicyKind!]!, $split: Float! = 0.7, $from: DateTime = null, $to: DateTime = null) {
  comparePolicies(decisionPoint: "WINBACK", policies: $p, split: $split, seed: 4, from: $from, to: $to) {
    __typename
    ... on PolicyComparison { rows trainingRows replayRows excludedNotUniform
      replays { policy matched meanReward totalReward curveSteps cumulativeReward } }
    ... on InvalidInput { field message }
  }
}"""


def drafts(rows: list[dict], propensity: float | None = None) -> list[LoggedDecisionDraft]:
    return [
        LoggedDecisionDraft(r["externalId"], "WINBACK", r["lever"], datetime.fromisoformat(r["decidedAt"]), r["accepted"],
                            r["revenue"], propensity or r["propensity"], r["features"])
        for r in rows
    ]


async def load(services: Services, n: int = 6000) -> None:
    await configure_winback(services)
    rows = generate_campaign(n, seed=8)
    # the last 300 were logged by a skewed policy: not replayable
    assert (await services.evaluation.log.import_many(drafts(rows[:-300]))).accepted == n - 300
    assert (await services.evaluation.log.import_many(drafts(rows[-300:], propensity=0.8))).accepted == 300


async def test_compare_policies_replays_learning_policies_against_the_logged_one(services, gql) -> None:
    await load(services)
    result = (await gql(COMPARE, {"p": ["LIN_UCB", "EPSILON_GREEDY", "RANDOM"]}))["comparePolicies"]
    assert result["__typename"] == "PolicyComparison"
    assert result["rows"] == 6000 and result["trainingRows"] == 4200
    assert result["replayRows"] == 1500 and result["excludedNotUniform"] == 300
    replays = {r["policy"]: r for r in result["replays"]}
    assert list(replays) == ["LOGGED", "LIN_UCB", "EPSILON_GREEDY", "RANDOM"]
    assert replays["LOGGED"]["matched"] == 1500
    for kind in ("LIN_UCB", "EPSILON_GREEDY", "RANDOM"):
        assert 350 < replays[kind]["matched"] < 650  # about one row in three
        r = replays[kind]
        assert len(r["curveSteps"]) == len(r["cumulativeReward"]) <= 200 and r["curveSteps"][-1] == r["matched"]
        assert r["cumulativeReward"][-1] == pytest.approx(r["totalReward"])
    # LIN_UCB learns that price-sensitive customers take the discount and others the call
    assert replays["LIN_UCB"]["meanReward"] > 1.3 * replays["LOGGED"]["meanReward"]
    bad = (await gql(COMPARE, {"p": ["LIN_UCB"], "split": 0.9999}))["comparePolicies"]
    assert bad["__typename"] == "InvalidInput" and bad["field"] == "split"
    twice = (await gql(COMPARE, {"p": ["LIN_UCB", "LIN_UCB"]}))["comparePolicies"]
    assert twice["field"] == "policies"


async def test_compare_policies_replays_only_the_decisions_in_the_from_to_window(services, gql) -> None:
    await load(services)
    # rows are 17 minutes apart from START: [from, to) holds rows 1000..3999, all uniformly explored
    window = {"from": (START + timedelta(minutes=17 * 1000)).isoformat(), "to": (START + timedelta(minutes=17 * 4000)).isoformat()}
    result = (await gql(COMPARE, {"p": ["LIN_UCB"], **window}))["comparePolicies"]
    assert result["__typename"] == "PolicyComparison"
    assert (result["rows"], result["trainingRows"], result["replayRows"], result["excludedNotUniform"]) == (3000, 2100, 900, 0)
    assert result["replays"][0]["matched"] == 900
    reversed_window = {"from": window["to"], "to": window["from"]}
    refused = (await gql(COMPARE, {"p": ["LIN_UCB"], **reversed_window}))["comparePolicies"]
    assert refused["__typename"] == "InvalidInput" and refused["field"] == "from"


async def _prepare(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await load(Services.build(engine), n=3000)
    finally:
        await engine.dispose()


def test_ciclo_compare_prints_a_table_and_writes_a_png(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_prepare(database_url))
    out = tmp_path / "curves.png"
    assert main(["compare", "--decision-point", "WINBACK", "--policies", "LIN_TS,LIN_UCB,EPSILON_GREEDY", "--split", "0.7",
                 "--out", str(out), "--database-url", database_url]) == 0
    printed = capsys.readouterr().out
    for name in ("LOGGED", "LIN_TS", "LIN_UCB", "EPSILON_GREEDY", "matched", "mean reward"):
        assert name in printed
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(out) as image:
        image.verify()
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size[0] > 400 and image.size[1] > 300
    assert main(["compare", "--decision-point", "NOPE", "--database-url", database_url]) == 2
    # the window [row 0, row 1000): 1,000 rows, 700 to train on, 300 replayed
    end = (START + timedelta(minutes=17 * 1000)).strftime("%Y-%m-%dT%H:%M:%S")  # no zone: UTC
    assert main(["compare", "--decision-point", "WINBACK", "--policies", "LIN_UCB", "--from", START.date().isoformat(),
                 "--to", end, "--out", str(tmp_path / "window.png"), "--database-url", database_url]) == 0
    assert "1000 logged decisions with outcomes; trained on the oldest 700, replayed on 300" in capsys.readouterr().out
