"""`ciclo lifecycle recompute` and `ciclo lifecycle sweep` against a real database file."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from db import migrate
from db.session import make_engine
from services.container import Services
from services.domain import CustomerDraft, EventDraft

ROOT = Path(__file__).resolve().parents[2]


async def seed(url: str) -> None:
    engine = make_engine(url)
    try:
        await migrate.upgrade(engine)
        services = Services.build(engine)
        await services.customers.upsert_many([CustomerDraft(external_id="x1", email="x@example.com"),
                                              CustomerDraft(external_id="x2")])
        await services.events.record_many([
            EventDraft("x2", "PURCHASE", datetime.now(UTC) - timedelta(days=300), amount=10.0),
        ])
    finally:
        await engine.dispose()


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_recompute_and_sweep_commands_report_what_they_did(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    asyncio.run(seed(url))
    # x1 gave contact data on upsert, which already placed it in ACQUISITION: nothing is due.
    assert run("lifecycle", "sweep", "--database-url", url).startswith("sweep: 0 customers evaluated, 0 moved")
    out = run("lifecycle", "recompute", "--database-url", url)
    assert "recompute: 2 customers evaluated, 0 moved" in out
    assert "ACQUISITION 1" in out and "CHURNED 1" in out
