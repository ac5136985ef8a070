"""`ciclo import decisions` and `ciclo compare`: the analysts' commands over the decision log."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DatabaseOption = Callable[[argparse.ArgumentParser], None]


def add_import_command(imports: Any, database_option: DatabaseOption) -> None:
    """``ciclo import decisions FILE.csv [--warm-start]`` under the ``import`` command."""
    command = imports.add_parser("decisions", help="import a historical decision log (decisions with outcomes) from CSV")
    command.add_argument("file", type=Path)
    command.add_argument("--warm-start", action="store_true", help="let the decision points' models learn the rows")
    command.add_argument("--batch-size", type=int, default=1000)
    database_option(command)
    command.set_defaults(handler=lambda a: asyncio.run(_import_decisions(a)))


async def _open(database_url: str) -> Any:
    from db import migrate
    from db.session import make_engine
    from services.container import Services

    engine = make_engine(database_url)
    await migrate.upgrade(engine)
    return Services.build(engine)


async def _import_decisions(args: argparse.Namespace) -> int:
    from api.progress import ProgressBar, print_import_report
    from services.errors import InvalidInput
    from services.evaluation.log_csv import import_decisions_csv

    services = await _open(args.database_url)
    bar = ProgressBar("decision rows", stream=sys.stderr)
    try:
        report = await import_decisions_csv(
            services.evaluation.log, args.file, warm_start=args.warm_start, batch_size=args.batch_size, progress=bar.update
        )
    except InvalidInput as exc:
        print(f"\nrefused {args.file}: {exc.message}", file=sys.stderr)
        return 2
    finally:
        bar.close()
        await services.engine.dispose()
    return print_import_report(report)


def add_commands(commands: Any, database_option: DatabaseOption) -> None:
    """``ciclo compare``."""
    compare = commands.add_parser("compare", help="replay policy kinds on a decision point's log and plot their cumulative reward")
    compare.add_argument("--decision-point", required=True)
    compare.add_argument("--policies", default="LIN_TS,LIN_UCB,EPSILON_GREEDY", help="comma-separated policy kinds")
    compare.add_argument("--split", type=float, default=0.7, help="share of the log (oldest first) to train on")
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument("--from", dest="start", type=_moment, help="only decisions created at or after this ISO date or time (UTC when no zone)")
    compare.add_argument("--to", dest="end", type=_moment, help="only decisions created before this ISO date or time (UTC when no zone)")
    compare.add_argument("--out", type=Path, default=None, help="PNG path (default: compare-<decision point>.png)")
    database_option(compare)
    compare.set_defaults(handler=lambda a: asyncio.run(_compare(a)))


def _moment(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _compare(args: argparse.Namespace) -> int:
    from services.errors import ServiceError
    from services.evaluation.curves import plot_replay_curves

    services = await _open(args.database_url)
    kinds = [kind.strip().upper() for kind in args.policies.split(",") if kind.strip()]
    try:
        result = await services.evaluation.comparisons.compare(
            args.decision_point, kinds, args.split, args.seed, args.start, args.end
        )
    except ServiceError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 2
    finally:
        await services.engine.dispose()
    print(
        f"decision point {result.decision_point}: {result.rows} logged decisions with outcomes; trained on the oldest "
        f"{result.training_rows}, replayed on {result.replay_rows} uniformly explored after them "
        f"({result.excluded_not_uniform} not uniform or without propensity, left out)"
    )
    print(f"{'policy':<16}{'matched':>9}{'mean reward':>13}{'total reward':>14}{'vs logged':>11}")
    logged = result.replays[0].mean_reward
    for replay in result.replays:
        total = replay.cumulative_reward[-1] if replay.cumulative_reward else 0.0
        lift = f"{replay.mean_reward / logged:>10.2f}x" if logged > 0 else f"{'-':>11}"
        print(f"{replay.policy:<16}{replay.matched:>9}{replay.mean_reward:>13.4f}{total:>14.2f}{lift}")
    path = plot_replay_curves(result, args.out or Path(f"compare-{args.decision_point}.png"))
    print(f"cumulative reward curves: {path}")
    return 0
