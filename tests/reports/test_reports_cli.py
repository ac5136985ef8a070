"""`ciclo report levers|timeline|by --format csv` as a real process on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from api.report_cli import LEVER_COLUMNS, TIMELINE_COLUMNS
from services.reports.values import ReportFilter

REPO = Path(__file__).resolve().parents[2]


def report(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "api.cli", "report", *args, "--database-url", database_url]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


def rows_of(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


async def test_levers_csv_has_the_documented_header_and_the_service_figures(services, database_url, hand_log, tmp_path: Path) -> None:
    await hand_log()
    done = report(database_url, "levers", "--decision-point", "RETENTION", "--format", "csv", "--seed", "3")
    assert done.returncode == 0, done.stderr
    header, rows = rows_of(done.stdout)
    assert header == LEVER_COLUMNS
    expected = await services.lever_reports.performance("RETENTION", seed=3)
    assert [r["lever"] for r in rows] == [e.lever for e in expected]
    for row, want in zip(rows, expected, strict=True):
        assert int(row["outcomes"]) == want.outcomes and int(row["accepted"]) == want.accepted
        assert float(row["accept_rate_low"]) == pytest.approx(want.accept_rate.low)
        assert float(row["net_value_per_decision_high"]) == pytest.approx(want.net_value_per_decision.high)
        assert float(row["probability_best"]) == pytest.approx(want.probability_best)
        assert row["is_control"] == ("true" if want.kind == "NO_ACTION" else "false")
    control = next(r for r in rows if r["lever"] == "NO_ACTION")
    assert control["uplift_accept_rate"] == "" and control["control_outcomes"] == ""
    discount = next(r for r in rows if r["lever"] == "DISCOUNT_10")
    assert float(discount["uplift_accept_rate"]) == pytest.approx(0.25) and discount["control_outcomes"] == "4"

    out = tmp_path / "levers.csv"
    filtered = report(database_url, "levers", "--decision-point", "RETENTION", "--from", "2026-10-12", "--stage", "ACQUISITION", "--out", str(out))
    assert filtered.returncode == 0, filtered.stderr
    _, rows = rows_of(out.read_text())
    assert {r["lever"]: int(r["outcomes"]) for r in rows} == {"DISCOUNT_10": 0, "FREE_SHIPPING": 0, "PERSONAL_CALL": 2, "NO_ACTION": 4}


async def test_timeline_and_by_csv(services, database_url, hand_log) -> None:
    await hand_log()
    done = report(database_url, "timeline", "--decision-point", "RETENTION", "--interval", "WEEK")
    assert done.returncode == 0, done.stderr
    header, rows = rows_of(done.stdout)
    assert header == TIMELINE_COLUMNS
    points = await services.lever_reports.timeline("RETENTION", "WEEK", ReportFilter())
    assert [(r["period_start"], r["lever"], int(r["activated"])) for r in rows] == [
        (p.period.isoformat(), p.lever, p.activated) for p in points
    ]
    by = report(database_url, "by", "--decision-point", "RETENTION", "--dimension", "CHURN_REASON")
    assert by.returncode == 0, by.stderr
    header, rows = rows_of(by.stdout)
    assert header == ["group", *LEVER_COLUMNS]
    assert {(r["group"], r["lever"]): int(r["accepted"]) for r in rows} == {
        ("NONE", "DISCOUNT_10"): 2, ("NONE", "FREE_SHIPPING"): 1, ("NONE", "PERSONAL_CALL"): 1, ("NONE", "NO_ACTION"): 1,
        ("PRICE", "DISCOUNT_10"): 0,
    }


async def test_unknown_decision_point_is_refused_with_its_name(services, database_url) -> None:
    done = report(database_url, "levers", "--decision-point", "NOPE")
    assert done.returncode == 2 and "NOPE" in done.stderr and done.stdout == ""
