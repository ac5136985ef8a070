"""Reports and evaluations read from CICLO_READ_DATABASE_URL; everything else uses the primary.

No streaming replica runs here, so the "replica" is a second, separately written database: when
the report answers show what only that database holds (and the primary has none of it), the
queries went there. That proves the routing, not replication.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from db.models import Decision
from db.session import make_engine
from services.container import Services
from services.errors import CustomerNotFound
from services.evaluation.log_import import LoggedDecisionDraft
from services.evaluation.values import PolicyCandidate
from services.offers.errors import UnknownDecisionPoint
from tests.conftest import scratch_database, start_server, stop_server
from tests.evaluation.campaign import generate_campaign
from tests.evaluation.conftest import configure_winback
from tests.reports.hand_log import POINT, build_hand_log


@pytest.fixture
def read_database_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second migrated database on the same backend, standing in for a read replica."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with scratch_database(request, tmp_path, backend, "replica") as url:
        yield url


def _logged(rows: list[dict]) -> list[LoggedDecisionDraft]:
    return [
        LoggedDecisionDraft(r["externalId"], "WINBACK", r["lever"], datetime.fromisoformat(r["decidedAt"]),
                            r["accepted"], r["revenue"], r["propensity"], r["features"])
        for r in rows
    ]


async def _fill_the_replica(url: str) -> None:
    """What replication would have copied: the hand-built RETENTION log and a WINBACK campaign."""
    engine = make_engine(url)
    try:
        replica = Services.build(engine)
        await build_hand_log(replica)
        await configure_winback(replica)
        assert (await replica.evaluation.log.import_many(_logged(generate_campaign(600, seed=8)))).accepted == 600
    finally:
        await engine.dispose()


async def _decisions(services: Services, sessions: str) -> int:
    async with getattr(services, sessions)() as session:
        return int(await session.scalar(select(func.count()).select_from(Decision)) or 0)


async def test_reports_and_evaluations_read_the_read_database_and_everything_else_the_primary(
    database_url: str, read_database_url: str
) -> None:
    await _fill_the_replica(read_database_url)
    primary, replica = make_engine(database_url), make_engine(read_database_url)
    try:
        routed = Services.build(primary, read_engine=replica)
        alone = Services.build(primary)

        board = await routed.lever_reports.performance(POINT)
        assert {(p.lever, p.decisions, p.accepted) for p in board} == {
            ("DISCOUNT_10", 5, 2), ("FREE_SHIPPING", 3, 1), ("PERSONAL_CALL", 2, 1), ("NO_ACTION", 4, 1)
        }
        assert {row.lever for row in await routed.lever_reports.timeline(POINT, "WEEK")} == {p.lever for p in board}
        assert sum(c.raised for c in await routed.alert_reports.raised("WEEK")) >= 1
        comparison = await routed.evaluation.comparisons.compare("WINBACK", ["EPSILON_GREEDY"], seed=1)
        assert comparison.rows == 600
        evaluation = await routed.evaluation.policies.evaluate("WINBACK", PolicyCandidate("UNIFORM_RANDOM"))
        assert evaluation.rows == 600

        # Without a read engine the same questions go to the primary, which holds none of it.
        with pytest.raises(UnknownDecisionPoint):
            await alone.lever_reports.performance(POINT)
        with pytest.raises(UnknownDecisionPoint):
            await alone.evaluation.comparisons.compare("WINBACK", ["EPSILON_GREEDY"], seed=1)
        assert await alone.alert_reports.raised("WEEK") == []

        # Writes and the rest stay on the primary, the decision-log import included.
        with pytest.raises(CustomerNotFound):
            await routed.customers.get_by_external_id("c-1")
        await configure_winback(routed)
        assert (await routed.evaluation.log.import_many(_logged(generate_campaign(30, seed=9)))).accepted == 30
        assert await _decisions(routed, "sessions") == 30
        assert await _decisions(routed, "read_sessions") == 600 + 14
    finally:
        await primary.dispose()
        await replica.dispose()


def test_ciclo_serve_read_database_url_sends_report_queries_there(database_url: str, read_database_url: str) -> None:
    asyncio.run(_fill_the_replica(read_database_url))
    server = start_server(database_url, "--read-database-url", read_database_url)
    try:
        def ask(query: str) -> dict:
            body = httpx.post(f"{server.url}/graphql", json={"query": query}, timeout=60).json()
            assert "errors" not in body, body
            return body["data"]

        board = ask(f'{{ leverPerformance(decisionPoint: "{POINT}") {{ leverKey decisions lever {{ key }} }} }}')["leverPerformance"]
        assert {row["leverKey"]: row["decisions"] for row in board} == {
            "DISCOUNT_10": 5, "FREE_SHIPPING": 3, "PERSONAL_CALL": 2, "NO_ACTION": 4
        }
        # The nested lever is the catalogue's (a DataLoader on the primary): none there.
        assert all(row["lever"] is None for row in board)
        # The catalogue is not a report: it comes from the primary, which has no decision point.
        assert ask("{ decisionPoints { key } }")["decisionPoints"] == []
    finally:
        stop_server(server)
