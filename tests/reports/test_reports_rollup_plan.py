"""A rollup refresh step reads the decisions it rolls up by their id range, not the whole point's
log: it runs inside SQLite's one write lock, so its cost must follow the batch, not the log."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import func
from sqlalchemy.dialects import sqlite

from db import migrate
from db.models import LeverCustomerSums, LeverDaySums
from db.repositories import lever_rollup as repo
from db.session import make_engine


class _SqliteSession:
    """What ``_add_sums`` asks of a session: its backend's name."""

    def get_bind(self) -> object:
        return SimpleNamespace(dialect=SimpleNamespace(name="sqlite"))


def _plans(database: Path) -> list[str]:
    old, new = repo.Watermark(50_000, 5_000), repo.Watermark(55_000, 6_000)
    changes = repo._changes(1, old, new)
    campaign = func.coalesce(changes.c.campaign_id, repo.NO_CAMPAIGN)
    keys = {
        LeverDaySums: {"day": repo.day_of(changes.c.created_at, "sqlite"), "lever_key": changes.c.lever_key, "campaign": campaign},
        LeverCustomerSums: {"customer_id": changes.c.customer_id, "lever_key": changes.c.lever_key, "campaign": campaign},
    }
    connection = sqlite3.connect(database)
    try:
        found = []
        for model, by in keys.items():
            statement = repo._add_sums(_SqliteSession(), model, 1, by, changes)  # type: ignore[arg-type]
            sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
            found.extend(row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + sql))
        return found
    finally:
        connection.close()


async def test_refresh_reads_new_decisions_by_id_range(tmp_path: Path) -> None:
    database = tmp_path / "plan.db"
    engine = make_engine(f"sqlite+aiosqlite:///{database}")
    await migrate.upgrade(engine)
    await engine.dispose()
    steps = [step for step in _plans(database) if step.startswith(("SEARCH decisions", "SCAN decisions"))]
    # Per statement: the new decisions by id range, and each answered one's decision by id.
    assert steps.count("SEARCH decisions USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)") == 2, steps
    assert all("PRIMARY KEY" in step for step in steps), steps
