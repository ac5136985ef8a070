"""`ciclo report levers|timeline|by`: the analysts' lever reports as CSV, for spreadsheets.

Columns (an empty cell is "unknown": no outcomes, or too few for an interval):

- levers: ``lever,kind,is_control,decisions,activated,outcomes,accepted,accept_rate,accept_rate_low,
  accept_rate_high,revenue,revenue_per_decision,revenue_per_decision_low,revenue_per_decision_high,
  cost,cost_per_decision,cost_per_decision_low,cost_per_decision_high,net_value,net_value_per_decision,
  net_value_per_decision_low,net_value_per_decision_high,uplift_accept_rate,uplift_accept_rate_low,
  uplift_accept_rate_high,uplift_revenue_per_decision,uplift_revenue_per_decision_low,
  uplift_revenue_per_decision_high,control_outcomes,probability_best``
- by: ``group`` followed by the levers columns, one row per group and lever;
- timeline: ``period_start,lever,decisions,activated,allocation_share,outcomes,accepted,accept_rate,revenue``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # api.cli imports this module: `serve` workers re-import it, keep it light
    from services.reports.intervals import Estimate
    from services.reports.values import LeverPerformance, TimelinePoint

DatabaseOption = Callable[[argparse.ArgumentParser], None]

LEVER_COLUMNS = [
    "lever", "kind", "is_control", "decisions", "activated", "outcomes", "accepted",
    "accept_rate", "accept_rate_low", "accept_rate_high",
    "revenue", "revenue_per_decision", "revenue_per_decision_low", "revenue_per_decision_high",
    "cost", "cost_per_decision", "cost_per_decision_low", "cost_per_decision_high",
    "net_value", "net_value_per_decision", "net_value_per_decision_low", "net_value_per_decision_high",
    "uplift_accept_rate", "uplift_accept_rate_low", "uplift_accept_rate_high",
    "uplift_revenue_per_decision", "uplift_revenue_per_decision_low", "uplift_revenue_per_decision_high",
    "control_outcomes", "probability_best",
]
TIMELINE_COLUMNS = [
    "period_start", "lever", "decisions", "activated", "allocation_share", "outcomes", "accepted", "accept_rate", "revenue",
]
DIMENSIONS = ("SEGMENT", "STAGE", "VALUE_TIER", "CHURN_REASON", "CAMPAIGN")
VALUE_TIERS = ("PLATINUM", "GOLD", "SILVER", "BRONZE")


def add_commands(commands: Any, database_option: DatabaseOption) -> None:
    from services.domain import STAGES

    report = commands.add_parser("report", help="lever reports as CSV").add_subparsers(metavar="REPORT")
    levers = report.add_parser("levers", help="the lever leaderboard with 95%% intervals, uplift and probability best")
    _common(levers, database_option)
    levers.add_argument("--segment", help="segment key (customers' current membership)")
    levers.add_argument("--stage", choices=STAGES, help="customers' current stage")
    levers.add_argument("--value-tier", choices=VALUE_TIERS, help="customers' current value tier")
    levers.add_argument("--seed", type=int, default=0, help="seed of the probability-best Monte Carlo")
    levers.set_defaults(handler=lambda a: asyncio.run(_run(a, "levers")))

    timeline = report.add_parser("timeline", help="allocation share, accept rate and revenue per lever and period")
    _common(timeline, database_option)
    timeline.add_argument("--interval", choices=("DAY", "WEEK"), default="WEEK")
    timeline.set_defaults(handler=lambda a: asyncio.run(_run(a, "timeline")))

    by = report.add_parser("by", help="the leaderboard per customer group")
    _common(by, database_option)
    by.add_argument("--dimension", choices=DIMENSIONS, required=True)
    by.add_argument("--seed", type=int, default=0)
    by.set_defaults(handler=lambda a: asyncio.run(_run(a, "by")))


def _common(command: argparse.ArgumentParser, database_option: DatabaseOption) -> None:
    command.add_argument("--decision-point", required=True)
    command.add_argument("--format", choices=("csv",), default="csv")
    command.add_argument("--from", dest="start", type=_moment, help="ISO date or time, inclusive (UTC when no zone)")
    command.add_argument("--to", dest="end", type=_moment, help="ISO date or time, exclusive (UTC when no zone)")
    command.add_argument("--campaign-id", type=int)
    command.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    database_option(command)


def _moment(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _run(args: argparse.Namespace, report: str) -> int:
    from services.errors import ServiceError
    from services.reports.values import ReportFilter

    scope = ReportFilter(
        args.start, args.end, getattr(args, "segment", None), getattr(args, "stage", None),
        getattr(args, "value_tier", None), args.campaign_id,
    )
    services = await _open(args.database_url)
    try:
        reports = services.lever_reports
        if report == "levers":
            header, rows = LEVER_COLUMNS, map(lever_row, await reports.performance(args.decision_point, scope, seed=args.seed))
        elif report == "by":
            groups = await reports.performance_by(args.decision_point, args.dimension, scope, seed=args.seed)
            header, rows = ["group", *LEVER_COLUMNS], ([g.group, *lever_row(r)] for g in groups for r in g.levers)
        else:
            header, rows = TIMELINE_COLUMNS, map(timeline_row, await reports.timeline(args.decision_point, args.interval, scope))
        rows = list(rows)
    except ServiceError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 2
    finally:
        await services.engine.dispose()
    if args.out is None:
        _write(sys.stdout, header, rows)
    else:
        with args.out.open("w", newline="", encoding="utf-8") as sink:
            _write(sink, header, rows)
        print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


async def _open(database_url: str) -> Any:
    from db import migrate
    from db.session import make_engine
    from services.container import Services

    engine = make_engine(database_url)
    await migrate.upgrade(engine)
    return Services.build(engine)


def _write(sink: TextIO, header: list[str], rows: Iterable[list[Any]]) -> None:
    out = csv.writer(sink, lineterminator="\n")
    out.writerow(header)
    out.writerows(rows)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _estimate(value: Estimate) -> list[Any]:
    return [_cell(value.value), _cell(value.low), _cell(value.high)]


def lever_row(row: LeverPerformance) -> list[Any]:
    uplift = row.uplift
    return [
        row.lever, _cell(row.kind), _cell(row.is_control), row.decisions, row.activated, row.outcomes, row.accepted,
        *_estimate(row.accept_rate),
        row.revenue, *_estimate(row.revenue_per_decision),
        row.cost, *_estimate(row.cost_per_decision),
        row.net_value, *_estimate(row.net_value_per_decision),
        *(_estimate(uplift.accept_rate) if uplift else ["", "", ""]),
        *(_estimate(uplift.revenue_per_decision) if uplift else ["", "", ""]),
        uplift.control_outcomes if uplift else "",
        _cell(row.probability_best),
    ]


def timeline_row(point: TimelinePoint) -> list[Any]:
    return [
        point.period.isoformat(), point.lever, point.decisions, point.activated, _cell(point.allocation_share),
        point.outcomes, point.accepted, _cell(point.accept_rate), point.revenue,
    ]
