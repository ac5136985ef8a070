"""The `ciclo` command line: serve, migrate, demo data, imports and the schema export."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from api import campaign_cli, evaluation_cli, keys_cli, offer_cli, report_cli, serve_security
from api.settings import Settings
from db.session import DEFAULT_URL


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return int(args.handler(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ciclo", description="Customer lifecycle and next-best-offer service.")
    commands = parser.add_subparsers(metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the GraphQL server")
    serve.add_argument("--host", default=os.environ.get("CICLO_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("CICLO_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("CICLO_WORKERS", "1")))
    _database_option(serve)
    serve.add_argument(
        "--read-database-url",
        default=os.environ.get("CICLO_READ_DATABASE_URL") or None,
        help="SQLAlchemy async URL of a read replica for reports and evaluations "
        "(default: $CICLO_READ_DATABASE_URL, else the --database-url)",
    )
    serve.add_argument("--demo", action="store_true", help="load the demo portfolio when the database is empty")
    serve.add_argument("--config", type=Path, help="levers and decision points to configure at start (TOML)")
    serve.add_argument("--log-level", default=os.environ.get("CICLO_LOG_LEVEL", "info"),
                       help="debug, info (one access line per request), warning, error; for uvicorn's logs and Ciclo's own")
    serve.add_argument("--insecure-no-auth", action="store_true", help="serve without API keys: every caller is ADMIN (CICLO_AUTH=off)")
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="apply pending migrations")
    _database_option(upgrade)
    upgrade.set_defaults(handler=lambda a: asyncio.run(_upgrade(a.database_url)))

    demo = commands.add_parser("demo-data", help="load a generated demo portfolio")
    demo.add_argument("--customers", type=int, default=5000)
    demo.add_argument("--seed", type=int, default=7)
    _database_option(demo)
    demo.set_defaults(handler=lambda a: asyncio.run(_demo(a)))

    imports = commands.add_parser("import", help="stream a CSV file in").add_subparsers(metavar="KIND")
    for kind in ("customers", "events"):
        command = imports.add_parser(kind, help=f"import {kind} from CSV")
        command.add_argument("file", type=Path)
        command.add_argument("--batch-size", type=int, default=1000)
        _database_option(command)
        command.set_defaults(handler=lambda a, kind=kind: asyncio.run(_import(a, kind)))
    evaluation_cli.add_import_command(imports, _database_option)

    lifecycle = commands.add_parser("lifecycle", help="lifecycle rules").add_subparsers(metavar="ACTION")
    recompute = lifecycle.add_parser("recompute", help="recompute stages, alerts, scores and rule segments from the timeline")
    _database_option(recompute)
    recompute.set_defaults(handler=lambda a: asyncio.run(_lifecycle(a.database_url, "recompute")))
    sweep = lifecycle.add_parser("sweep", help="apply time-based rules: inactivity churn, INACTIVITY alarms, alert expiry")
    _database_option(sweep)
    sweep.set_defaults(handler=lambda a: asyncio.run(_lifecycle(a.database_url, "sweep")))

    offer_cli.add_commands(commands, _database_option)
    report_cli.add_commands(commands, _database_option)
    evaluation_cli.add_commands(commands, _database_option)
    campaign_cli.add_commands(commands, _database_option)
    keys_cli.add_commands(commands, _database_option)

    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--out", type=Path, help="write to this file instead of stdout")
    export.set_defaults(handler=_export_schema)
    return parser


def _database_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--database-url",
        default=os.environ.get("CICLO_DATABASE_URL", DEFAULT_URL),
        help="SQLAlchemy async URL (default: $CICLO_DATABASE_URL or embedded SQLite ./ciclo.db)",
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers < 1:
        print("--workers must be >= 1", file=sys.stderr)
        return 2
    # Migrate and seed once, here, so several workers never race on it.
    asyncio.run(_upgrade(args.database_url))
    if args.demo:
        asyncio.run(_demo_if_empty(args.database_url))
    from services.offers.config_file import DEMO

    for config in [DEMO] * args.demo + [args.config] * (args.config is not None):
        if asyncio.run(offer_cli.configure_from_file(args.database_url, config)):
            return 2
    if not serve_security.prepare(args):
        return 2
    os.environ["CICLO_DATABASE_URL"] = args.database_url
    # The workers build their settings from the environment: the level reaches Ciclo's own loggers
    # (the access lines are info) as well as uvicorn's.
    os.environ["CICLO_LOG_LEVEL"] = args.log_level
    if args.read_database_url:
        os.environ["CICLO_READ_DATABASE_URL"] = args.read_database_url
    os.environ["CICLO_MIGRATE"] = "0"
    os.environ["CICLO_DEMO"] = "0"
    print(f"Ciclo GraphQL (with GraphiQL) at http://{args.host}:{args.port}/graphql", file=sys.stderr)
    from api.metrics_dir import prepare_multiprocess

    prepare_multiprocess(args.workers)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        # api.request_log writes one JSON line per request instead.
        access_log=False,
        # A worker answers the supervisor's ping only once its startup is done; on a loaded host
        # that takes longer than uvicorn's 5 s default, which killed and respawned workers in a loop.
        timeout_worker_healthcheck=int(os.environ.get("CICLO_WORKER_HEALTHCHECK_SECONDS", "60")),
    )
    return 0


async def _open(database_url: str):  # type: ignore[no-untyped-def]
    from db import migrate
    from db.session import make_engine
    from services.container import Services

    engine = make_engine(database_url)
    await migrate.upgrade(engine)
    return Services.build(engine)


async def _upgrade(database_url: str) -> int:
    from db import migrate
    from db.session import make_engine

    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        print(f"database at revision {', '.join(sorted(await migrate.current_revisions(engine)))}", file=sys.stderr)
    finally:
        await engine.dispose()
    return 0


async def _demo_if_empty(database_url: str) -> None:
    from services.demo import load_demo_if_empty

    settings = Settings.from_env()
    services = await _open(database_url)
    try:
        summary = await load_demo_if_empty(services, customers=settings.demo_customers, seed=settings.demo_seed)
        if summary is not None:
            print(f"loaded demo portfolio: {summary}", file=sys.stderr)
    finally:
        await services.engine.dispose()


async def _demo(args: argparse.Namespace) -> int:
    from asyncpg.exceptions import UniqueViolationError
    from sqlalchemy.exc import IntegrityError

    from api.progress import ProgressBar
    from services.demo import generate_demo

    services = await _open(args.database_url)
    bar = ProgressBar("customers", args.customers)
    try:
        summary = await generate_demo(services, customers=args.customers, seed=args.seed, progress=bar.update)
    except (IntegrityError, UniqueViolationError) as exc:
        # SQLite's duplicate comes through SQLAlchemy; PostgreSQL's straight from asyncpg's COPY.
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(
            f"\nrefused: the demo portfolio for seed {args.seed} is already loaded"
            f" (externalIds demo-{args.seed}-*): use another --seed or an empty database"
            f" ({detail})",
            file=sys.stderr,
        )
        return 1
    finally:
        bar.close()
        await services.engine.dispose()
    print(summary)
    return 0


async def _import(args: argparse.Namespace, kind: str) -> int:
    from api.progress import ProgressBar, print_import_report
    from services import imports
    from services.errors import InvalidInput

    services = await _open(args.database_url)
    bar = ProgressBar(f"{kind} rows")
    run = imports.import_customers_csv if kind == "customers" else imports.import_events_csv
    try:
        report = await run(services, args.file, batch_size=args.batch_size, progress=bar.update)
        # Large batches leave their lifecycle pass to a server's drainer; none may be running.
        await services.lifecycle.drain_all()
    except InvalidInput as exc:
        print(f"\nrefused {args.file}: {exc.message}", file=sys.stderr)
        return 2
    finally:
        bar.close()
        await services.engine.dispose()
    return print_import_report(report)


async def _lifecycle(database_url: str, action: str) -> int:
    import time

    services = await _open(database_url)
    started = time.perf_counter()
    try:
        run = services.lifecycle.recompute if action == "recompute" else services.lifecycle.sweep
        outcome = await run()
    finally:
        await services.engine.dispose()
    stages = ", ".join(f"{stage} {n}" for stage, n in sorted(outcome.stages.items()))
    print(
        f"{action}: {outcome.customers} customers evaluated, {outcome.moved} moved, "
        f"{len(outcome.raised)} alerts raised, {outcome.resolved} resolved, {outcome.expired} expired "
        f"in {time.perf_counter() - started:.1f}s" + (f" ({stages})" if stages else "")
    )
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from api.schema import schema_sdl

    text = schema_sdl()
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
