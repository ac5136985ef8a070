"""The offer commands: `ciclo decide` to CSV, `ciclo engine expire`, `serve --config`, the simulator."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from api.cli import main
from db.models import Decision
from db.session import make_engine
from services.container import Services
from services.domain import CustomerDraft
from services.offers import config_file
from services.offers.simulation import simulate
from services.offers.values import DecideRequest
from tests.conftest import start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]


async def _prepare(database_url: str, customers: int) -> list[int]:
    engine = make_engine(database_url)
    try:
        services = Services.build(engine)
        await services.customers.upsert_many(
            [CustomerDraft(external_id=f"k-{i}", attributes={"price_sensitive": i % 3 == 0}) for i in range(customers)]
        )
        await services.segments.upsert("campaign", "Campaign", None)
        await services.segments.change_members("campaign", [f"k-{i}" for i in range(customers)], add=True)
        await config_file.apply(services.offers, config_file.load(ROOT / "ciclo.toml"))
        decisions = [await services.offers.decisions.decide(DecideRequest("RETENTION", f"k-{i}")) for i in range(3)]
        # their reward windows ended an hour ago
        async with services.sessions.begin() as session:
            await session.execute(update(Decision).values(window_ends_at=datetime.now(UTC) - timedelta(hours=1)))
        return [d.id for d in decisions]
    finally:
        await engine.dispose()


def test_decide_streams_a_segment_to_csv_and_expire_applies_default_rewards(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_prepare(database_url, 2500))
    out = tmp_path / "offers.csv"
    assert main(["decide", "--decision-point", "CROSS_SELL", "--segment", "campaign", "--out", str(out),
                 "--database-url", database_url]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2500 and len({r["customer_id"] for r in rows}) == 2500
    assert all(0 < float(r["propensity"]) <= 1 for r in rows)
    # the demo CROSS_SELL point holds out 5 % as a control group, served NO_ACTION
    held = [r for r in rows if r["holdout"] == "1"]
    assert 0.02 < len(held) / len(rows) < 0.08 and {r["lever"] for r in held} == {"NO_ACTION"}
    assert {r["policy_arm"] for r in rows} == {"main"}
    assert main(["engine", "expire", "--database-url", database_url]) == 0
    assert main(["engine", "expire", "--database-url", database_url]) == 0
    printed = capsys.readouterr().out
    assert "default outcomes applied: 3" in printed and "default outcomes applied: 0" in printed
    assert main(["decide", "--decision-point", "NOPE", "--segment", "campaign", "--out", str(out),
                 "--database-url", database_url]) == 2


def test_config_file_names_the_bad_setting() -> None:
    with pytest.raises(Exception) as bad:
        config_file.parse('[[levers]]\nkey = "X"\nname = "X"\ncolour = "red"\n')
    assert bad.value.field == "levers[0].colour"  # type: ignore[attr-defined]
    demo = config_file.load(config_file.DEMO)
    assert {p.key for p in demo.decision_points} == {"CROSS_SELL", "RETENTION", "RECOVERY"}
    assert {"DISCOUNT_5", "DISCOUNT_10", "DISCOUNT_20", "NO_ACTION"} <= {lever.key for lever in demo.levers}
    assert config_file.load(ROOT / "ciclo.toml") == demo


def test_serve_with_a_config_file_can_decide_at_once(tmp_path: Path) -> None:
    server = start_server(f"sqlite+aiosqlite:///{tmp_path / 'served.db'}", "--config", str(ROOT / "ciclo.toml"))
    try:
        def post(query: str) -> dict:
            return httpx.post(f"{server.url}/graphql", json={"query": query}, timeout=30).json()

        points = post("{ decisionPoints { key levers } }")["data"]["decisionPoints"]
        assert [p["key"] for p in points] == ["CROSS_SELL", "RECOVERY", "RETENTION"]
        post('mutation { upsertCustomers(input: [{externalId: "t-1"}]) { accepted } }')
        decided = post('mutation { decide(input: {decisionPoint: "RECOVERY", externalId: "t-1"}) '
                       '{ ... on Decision { lever { key kind } propensity } } }')["data"]["decide"]
        assert decided["lever"]["key"] in points[1]["levers"] and 0 < decided["propensity"] <= 1
    finally:
        stop_server(server)


async def test_simulation_through_the_service_layer_beats_the_best_single_lever(services: Services) -> None:
    run = await simulate(services, "heterogeneous", 8000, seed=1)
    result = run.result
    assert result.ratio("engine") >= 0.85
    assert result.total("engine") > 1.2 * result.total("best_single_lever")
    assert result.total("engine") > 1.5 * result.total("uniform_random")
