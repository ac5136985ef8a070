"""`ciclo decide`, `ciclo simulate` and `ciclo engine expire`, and the offer config at `serve`."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DatabaseOption = Callable[[argparse.ArgumentParser], None]


def add_commands(commands: Any, database_option: DatabaseOption) -> None:
    decide = commands.add_parser("decide", help="decide for every member of a segment and write the offers to CSV")
    decide.add_argument("--decision-point", required=True)
    decide.add_argument("--segment", required=True, help="segment key")
    decide.add_argument("--out", type=Path, required=True, help="CSV file to write")
    decide.add_argument("--context", type=json.loads, default=None, help="JSON object sent as the request context")
    decide.add_argument("--defer-activation", action="store_true", help="log decisions without activating them")
    database_option(decide)
    decide.set_defaults(handler=lambda a: asyncio.run(_decide(a)))

    simulate = commands.add_parser("simulate", help="run the engine through the service layer against a synthetic population")
    simulate.add_argument("--scenario", default="retention")
    simulate.add_argument("--decisions", type=int, default=20_000)
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument("--policy", default="LIN_TS")
    simulate.add_argument("--alpha", type=float, default=0.5)
    simulate.add_argument("--chunk", type=int, default=250, help="decisions per decideBatch call (learning between)")
    simulate.add_argument("--metric", choices=("accepted", "net_value"), default="accepted", help="what the curves count")
    simulate.add_argument("--objective", choices=("REWARD", "NET_VALUE"), default="REWARD",
                          help="NET_VALUE: learn acceptance, choose by expected net value")
    simulate.add_argument("--reward", choices=("ACCEPTED", "REVENUE", "NET_VALUE"), default=None,
                          help="what the decision point stores as reward (default: the metric)")
    simulate.add_argument("--control-share", type=float, default=0.0, help="share of customers held out (NO_ACTION)")
    simulate.add_argument("--plot", type=Path, default=None, help="PNG path (default: learning-curves-<scenario>.png)")
    simulate.add_argument("--budget", type=int, default=None, help="cap the engine's decisions of --budget-lever (fallback once spent)")
    simulate.add_argument("--budget-lever", default=None, help="the lever --budget caps")
    simulate.add_argument(
        "--database-url", default=None, help="database to run in (default: a temporary SQLite file, removed after)"
    )
    simulate.set_defaults(handler=lambda a: asyncio.run(_simulate(a)))

    engine = commands.add_parser("engine", help="offer engine maintenance").add_subparsers(metavar="ACTION")
    expire = engine.add_parser("expire", help="give decisions whose reward window ended their default reward")
    database_option(expire)
    expire.set_defaults(handler=lambda a: asyncio.run(_expire(a.database_url)))


async def _open(database_url: str) -> Any:
    from db import migrate
    from db.session import make_engine
    from services.container import Services

    engine = make_engine(database_url)
    await migrate.upgrade(engine)
    return Services.build(engine)


async def configure_from_file(database_url: str, path: Path) -> int:
    """Apply a levers/decision points TOML file (``serve --config``, and the demo's at ``--demo``)."""
    from services.errors import InvalidInput
    from services.offers import config_file

    services = await _open(database_url)
    try:
        done = await config_file.apply(services.offers, config_file.load(path))
    except InvalidInput as exc:
        print(f"refused {path}: {exc.message}", file=sys.stderr)
        return 2
    finally:
        await services.engine.dispose()
    print(f"configured from {path}: {', '.join(done)}", file=sys.stderr)
    return 0


async def _decide(args: argparse.Namespace) -> int:
    from api.progress import ProgressBar
    from services.errors import ServiceError

    services = await _open(args.database_url)
    written = 0
    try:
        from services.domain import CustomerFilter

        total = await services.customers.count(CustomerFilter(segment_key=args.segment))
        bar = ProgressBar("decisions", total, stream=sys.stderr)
        with args.out.open("w", newline="") as sink:
            out = csv.writer(sink)
            out.writerow(["decision_id", "customer_id", "lever", "propensity", "expected_reward", "policy_version",
                          "holdout", "policy_arm"])
            try:
                stream = services.offers.decisions.decide_segment(
                    args.decision_point, args.segment, context=args.context, activate=not args.defer_activation
                )
                async for chunk in stream:
                    for d in chunk:
                        out.writerow([d.id, d.customer_id, d.lever, f"{d.propensity:.6f}", f"{d.expected_reward:.6f}",
                                      d.config_version, int(d.holdout), d.policy_arm])
                    written += len(chunk)
                    bar.update(written)
            except ServiceError as exc:
                bar.close()
                print(f"refused: {exc.message}", file=sys.stderr)
                return 2
        bar.close()
    finally:
        await services.engine.dispose()
    print(f"wrote {written} decisions to {args.out}")
    return 0


async def _simulate(args: argparse.Namespace) -> int:
    import tempfile

    from api.progress import ProgressBar
    from engine.simulator import plot_learning_curves
    from services.errors import InvalidInput
    from services.offers.simulation import simulate
    from services.offers.values import Policy

    with tempfile.TemporaryDirectory(prefix="ciclo-simulate-") as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'simulate.db'}"
        services = await _open(url)
        bar = ProgressBar("decisions", args.decisions, stream=sys.stderr)
        started = time.perf_counter()
        try:
            policy = Policy(args.policy, alpha=args.alpha, seed=args.seed)
            budget = None
            if args.budget is not None:
                from services.offers.simulation_budget import simulate_with_budget

                run, budget = await simulate_with_budget(
                    services, args.scenario, args.decisions, args.seed, lever=args.budget_lever or "", max_count=args.budget,
                    policy=policy, chunk=args.chunk, progress=bar.update,
                )
            else:
                run = await simulate(services, args.scenario, args.decisions, args.seed, policy=policy,
                                     chunk=args.chunk, metric=args.metric, objective=args.objective,
                                     reward=args.reward,
                                     control_share=args.control_share, progress=bar.update)
        except InvalidInput as exc:
            print(f"refused: {exc.message}", file=sys.stderr)
            return 2
        finally:
            bar.close()
            await services.engine.dispose()
    result = run.result
    seconds = time.perf_counter() - started
    print(f"scenario {args.scenario}: {args.decisions} decisions, seed {args.seed}, {args.policy} "
          f"(through decideBatch/recordOutcome on {url.split(':')[0]}, {seconds:.1f}s)")
    print(f"{'strategy':<20}{'cumulative reward':>18}{'vs oracle':>11}")
    for name in ("engine", "oracle", "best_single_lever", "uniform_random"):
        print(f"{name:<20}{result.total(name):>18,.0f}{result.ratio(name):>10.1%}")
    if run.control:
        print(f"control group: {run.control} decisions, mean reward {run.control_reward:.3f}; "
              f"served: {run.treated_reward:.3f}; uplift {run.uplift:+.3f} per decision")
    if budget is not None:
        print(f"budget on {budget.budget.lever}: used {budget.used:,.0f} of {budget.budget.cap:,.0f} (the engine falls back "
              "to the next best lever once it is spent; oracle, single lever and random are unconstrained)")
    path = plot_learning_curves(result, args.plot or Path(f"learning-curves-{args.scenario}.png"))
    print(f"learning curves: {path}")
    return 0


async def _expire(database_url: str) -> int:
    services = await _open(database_url)
    try:
        applied = await services.offers.outcomes.expire()
    finally:
        await services.engine.dispose()
    print(f"default outcomes applied: {applied}")
    return 0
