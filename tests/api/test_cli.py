"""The `ciclo` command line as a real process, against a real database on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from db import migrate
from db.models import Customer, Event, StageChange
from services.container import Services
from services.domain import STAGES, CustomerDraft

REPO = Path(__file__).resolve().parents[2]


def _command(args: tuple[str | Path, ...], database_url: str | None) -> list[str]:
    command = [sys.executable, "-m", "api.cli", *map(str, args)]
    if database_url is not None:
        command += ["--database-url", database_url]
    return command


def ciclo(*args: str | Path, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``ciclo ARGS`` from the repository root and wait for it."""
    command = _command(args, database_url)
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


async def _count(services: Services, model: type) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def test_db_upgrade_creates_a_fresh_sqlite_file_and_can_run_again(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    url = f"sqlite+aiosqlite:///{path}"
    expected = f"database at revision {', '.join(sorted(migrate.head_revisions()))}"
    first = ciclo("db", "upgrade", database_url=url)
    assert first.returncode == 0, first.stderr
    assert path.exists()
    assert expected in first.stderr
    again = ciclo("db", "upgrade", database_url=url)
    assert again.returncode == 0, again.stderr
    assert expected in again.stderr


async def test_demo_data_loads_every_customer_with_a_stage_and_refuses_the_same_seed_twice(
    database_url: str, services: Services
) -> None:
    loaded = ciclo("demo-data", "--customers", "300", "--seed", "3", database_url=database_url)
    assert loaded.returncode == 0, loaded.stderr
    assert "DemoSummary(customers=300," in loaded.stdout
    assert "customers [" in loaded.stderr  # the progress bar
    async with services.sessions() as session:
        stages = (await session.scalars(select(Customer.stage))).all()
        with_history = await session.scalar(
            select(func.count(func.distinct(StageChange.customer_id)))
        )
    assert len(stages) == 300
    assert set(stages) <= set(STAGES)
    # Everyone the lifecycle rules moved past AWARENESS has a recorded history.
    assert with_history == sum(stage != "AWARENESS" for stage in stages) > 0
    events = await _count(services, Event)

    again = ciclo("demo-data", "--customers", "300", "--seed", "3", database_url=database_url)
    assert again.returncode != 0
    assert "Traceback" not in again.stderr + again.stdout
    assert "refused: the demo portfolio for seed 3 is already loaded" in again.stderr
    assert (await _count(services, Customer), await _count(services, Event)) == (300, events)


CUSTOMER_HEADER = ["externalId", "name", "email", "acquisitionChannel"]


def _customers(n: int) -> list[list[str]]:
    return [
        [f"c-{i}", f"Cliente {i}", f"c{i}@example.com", "WORD_OF_MOUTH"] for i in range(1, n + 1)
    ]


async def test_import_customers_reports_bad_rows_by_line_and_exits_1(
    database_url: str, services: Services, tmp_path: Path
) -> None:
    rows = _customers(12)
    rows[2][1] = "Multi\nline"  # line 4, spans two lines
    rows[4][2] = "not-an-email"  # line 7
    rows[9][3] = "TELEPATHY"  # line 12
    path = _write_csv(tmp_path / "customers.csv", CUSTOMER_HEADER, rows)
    result = ciclo("import", "customers", path, "--batch-size", "5", database_url=database_url)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "accepted 10, duplicates 0, rejected 2"
    assert lines[1] == "line 7: email: 'not-an-email' is not an email address"
    assert lines[2].startswith("line 12: acquisitionChannel: ")
    assert len(lines) == 3
    assert "customers rows" in result.stderr  # the progress line
    assert await _count(services, Customer) == 10
    assert (await services.customers.get_by_external_id("c-3")).name == "Multi\nline"


EVENT_HEADER = ["externalId", "type", "occurredAt", "amount", "currency", "idempotencyKey"]


async def test_import_events_counts_duplicates_and_reports_bad_rows(
    database_url: str, services: Services, tmp_path: Path
) -> None:
    stored = await services.customers.upsert_many([CustomerDraft(f"c-{i}") for i in (1, 2, 3)])
    assert not stored.errors
    rows = [
        [f"c-{1 + i % 3}", "PURCHASE", f"2025-03-{1 + i:02d}T10:00:00Z", "19.90", "EUR", f"e-{i}"]
        for i in range(8)
    ]
    rows[1][3] = "doce"  # line 3
    rows[4][0] = "ghost"  # line 6
    rows[6][5] = "e-0"  # a repeated idempotency key
    path = _write_csv(tmp_path / "events.csv", EVENT_HEADER, rows)
    result = ciclo("import", "events", path, "--batch-size", "3", database_url=database_url)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "accepted 5, duplicates 1, rejected 2"
    assert [line.split(": ")[:2] for line in lines[1:]] == [
        ["line 3", "amount"],
        ["line 6", "externalId"],
    ]
    assert "events rows" in result.stderr
    assert await _count(services, Event) == 5


def test_import_of_a_clean_file_exits_0_and_its_progress_ends_at_the_rows_read(
    tmp_path: Path,
) -> None:
    path = _write_csv(tmp_path / "customers.csv", CUSTOMER_HEADER, _customers(12))
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    result = ciclo("import", "customers", path, "--batch-size", "5", database_url=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["accepted 12, duplicates 0, rejected 0"]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("customers rows ")
    # The importer reports a running total: the bar must end at the file's row count.
    assert last.startswith("customers rows 12 "), last


async def test_import_with_an_unknown_column_is_refused_with_exit_2(
    database_url: str, services: Services, tmp_path: Path
) -> None:
    path = _write_csv(tmp_path / "odd.csv", ["externalId", "nickname"], [["c-1", "Anita"]])
    result = ciclo("import", "customers", path, database_url=database_url)
    assert result.returncode == 2
    assert f"refused {path}: nickname" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert await _count(services, Customer) == 0


def test_export_schema_to_a_file_writes_what_stdout_prints(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"
    # Independent runs, so they overlap: each process spends a second importing.
    runs = [
        subprocess.Popen(_command(args, None), cwd=REPO, stdout=subprocess.PIPE, text=True)
        for args in (("export-schema",), ("export-schema", "--out", out))
    ]
    (printed, _), (written, _) = (run.communicate(timeout=120) for run in runs)
    assert [run.returncode for run in runs] == [0, 0]
    assert "type Query" in printed
    assert written == ""
    assert out.read_text() == printed
