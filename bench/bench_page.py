"""In-process customer page: graphql-core's stock executor against Ciclo's plain-field executor.

Seeds a scratch database (as bench_foundation does), then runs the bench_foundation page query
through the schema in this process, alternating the two executors page by page, and prints
wall and CPU percentiles of each with their ratio (CPU time leaves out waiting for a core on a
busy machine). Both executors must return identical data.

Usage: python bench/bench_page.py [--backend sqlite|postgresql] [--customers N] [--events N] [--pages N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext  # noqa: E402

from api.context import Context  # noqa: E402
from api.loaders import Loaders  # noqa: E402
from api.schema import build_schema  # noqa: E402
from bench.bench_foundation import PAGE_QUERY, load  # noqa: E402
from bench.common import command_line, scratch_database  # noqa: E402
from db.session import make_engine  # noqa: E402
from services.container import Services  # noqa: E402


async def compare(url: str, pages: int) -> None:
    engine = make_engine(url, pool_size=5)
    services = Services.build(engine)
    stock = build_schema()
    stock.execution_context_class = StrawberryGraphQLCoreExecutionContext
    variants = {"stock executor": stock, "plain-field executor": build_schema()}
    cursor: dict[str, str | None] = dict.fromkeys(variants)

    async def page(name: str) -> tuple[float, float, Any]:
        context = Context(services=services, loaders=Loaders.build(services), request_id="bench")
        wall, cpu = time.perf_counter(), time.process_time()
        result = await variants[name].execute(PAGE_QUERY, variable_values={"after": cursor[name]}, context_value=context)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert not result.errors, result.errors
        info = result.data["customers"]["pageInfo"]
        cursor[name] = info["endCursor"] if info["hasNextPage"] else None
        return wall * 1000, cpu * 1000, result.data

    for _ in range(10):
        for name in variants:
            await page(name)
    cursor = dict.fromkeys(variants)
    assert len({repr((await page(name))[2]) for name in variants}) == 1, "the executors disagree"
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in variants}
    for _ in range(pages):
        for name in variants:
            wall, cpu, _ = await page(name)
            times[name][0].append(wall)
            times[name][1].append(cpu)
    for name, (wall, cpu) in times.items():
        print(f"  {name}: wall p50 {np.percentile(wall, 50):.2f} p95 {np.percentile(wall, 95):.2f} ms, "
              f"CPU p50 {np.percentile(cpu, 50):.2f} p95 {np.percentile(cpu, 95):.2f} ms")
    (stock_wall, stock_cpu), (fast_wall, fast_cpu) = times.values()
    print(f"  ratio plain-field/stock: CPU p50 {np.median(fast_cpu) / np.median(stock_cpu):.2f}, "
          f"wall p50 {np.median(fast_wall) / np.median(stock_wall):.2f}")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--customers", type=int, default=30_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--pages", type=int, default=150)
    args = parser.parse_args()
    print(f"command: {command_line()}")
    with scratch_database(args.backend) as url:
        asyncio.run(load(url, args.customers, args.events))
        print(f"{args.backend}: {args.customers:,} customers, {args.events:,} events, {args.pages} pages per executor")
        asyncio.run(compare(url, args.pages))


if __name__ == "__main__":
    main()
