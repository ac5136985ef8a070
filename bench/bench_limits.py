"""Query limits must not cost cached execution: limits on against limits off, in the same run.

Strawberry's own depth and alias limiters rebuild their rule per request, which defeats the
validation cache. Ciclo's are built once with the schema. This script runs the same cached
operation through a schema with the limits and one without, interleaved to share the machine's
noise, and prints the ratio: for a repeated decide (the target, <= 1.1) and, as a lighter
operation, a customer view.

Usage: python bench/bench_limits.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.context import Context  # noqa: E402
from api.loaders import Loaders  # noqa: E402
from api.schema import CicloSchema, build_schema  # noqa: E402
from bench.common import command_line  # noqa: E402
from db import migrate  # noqa: E402
from db.session import make_engine  # noqa: E402
from services.container import Services  # noqa: E402
from services.domain import CustomerDraft  # noqa: E402

VIEW = """query View($ext: String!) {
  customerByExternalId(externalId: $ext) { id externalId name stage attributes acquisitionChannel }
  stages { stage count }
}"""
# The operation the issue names: a repeated decide (cached parse and validation).
DECIDE = """mutation Decide($ext: String!) {
  decide(input: {decisionPoint: "RETENTION", externalId: $ext}) { __typename ... on Decision { id propensity lever { key } } }
}"""
SETUP = [
    'mutation { upsertLever(input: {key: "DISCOUNT_10", name: "10% off", kind: DISCOUNT, discountPercent: 10}) { __typename } }',
    'mutation { upsertLever(input: {key: "NO_ACTION", name: "Nothing", kind: NO_ACTION}) { __typename } }',
    """mutation { configureDecisionPoint(input: {key: "RETENTION", levers: ["DISCOUNT_10", "NO_ACTION"],
        features: ["valueTier", "openAlerts"], policy: {kind: LIN_TS, alpha: 0.5, seed: 1}}) { __typename } }""",
]


async def run(schema: CicloSchema, services: Services, query: str, ext: str = "b-1") -> None:
    context = Context(services=services, loaders=Loaders.build(services), request_id="bench")
    result = await schema.execute(query, variable_values={"ext": ext}, context_value=context)
    assert not result.errors, result.errors


async def per_call(schema: CicloSchema, services: Services, query: str, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        await run(schema, services, query, f"b-{i % 10}")
    return (time.perf_counter() - started) / n * 1e6


async def main(rounds: int, calls: int) -> None:
    folder = tempfile.mkdtemp(prefix="ciclo-bench-limits-")
    engine = make_engine(f"sqlite+aiosqlite:///{folder}/limits.db")
    await migrate.upgrade(engine)
    services = Services.build(engine)
    await services.customers.upsert_many([CustomerDraft(external_id=f"b-{i}", name="Bench") for i in range(10)])
    with_limits = build_schema(introspection=False)  # production: the introspection rule is cached with the limits
    without = build_schema(limits=None)
    for setup in SETUP:
        await run(without, services, setup)
    print(f"command: {command_line()}")
    print(f"cached execution, median of {rounds} rounds x {calls} calls (in process, SQLite):")
    for name, query in (("decide", DECIDE), ("customer view", VIEW)):
        for schema in (with_limits, without):
            await per_call(schema, services, query, 50)  # warm caches
        on, off = [], []
        for _ in range(rounds):
            on.append(await per_call(with_limits, services, query, calls))
            off.append(await per_call(without, services, query, calls))
        m_on, m_off = statistics.median(on), statistics.median(off)
        target = " (target <= 1.1)" if name == "decide" else ""
        print(f"  {name}: limits off {m_off:.0f} us/call; Ciclo's limits on {m_on:.0f} us/call; ratio on/off = {m_on / m_off:.3f}{target}")
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.calls))
