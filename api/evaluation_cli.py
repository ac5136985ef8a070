"""`ciclo import decisions` and `ciclo compare`: the analysts' commands over the decision log."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
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
    from api.progress import ProgressBar
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
    print(f"accepted {report.accepted}, duplicates {report.duplicates}, rejected {len(report.rejected)}")
    for row in report.rejected:
        print(f"line {row.line}: {row.field}: {row.reason}")
    return 1 if report.rejected else 0
