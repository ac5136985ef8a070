"""Lever report benchmark: leverPerformance, leverTimeline (WEEK) and leverPerformanceBy for every
dimension over 1,000,000 logged decisions (and their outcomes) on PostgreSQL, through the service
layer. The log is generated with set-based SQL (generate_series). Each figure is printed next to
the command and as a ratio against baselines measured in the same run: ``SELECT count(*) FROM
decisions``, the plain decisions-outcomes join aggregate (one count per lever), and the same
report read from the log alone (rollup empty). Target: each report <= 2 s.

The rollup (services.reports.rollup) is built as the server's background refresh would, then
``--tail`` more decisions are logged (with their outcomes, and activations of older decisions)
that it has not read: the reports add those live, as between two refreshes.

    python bench/bench_reports.py [--decisions 1000000] [--customers 200000] [--tail 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench.common import command_line, scratch_database  # noqa: E402
from db import migrate  # noqa: E402
from db.session import make_engine  # noqa: E402
from services.container import Services  # noqa: E402
from services.offers.values import DecisionPointDraft, LeverDraft, Policy  # noqa: E402
from services.reports.rollup import DEFAULT_INTERVAL  # noqa: E402
from services.reports.values import ReportFilter  # noqa: E402

LEVERS = (
    LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10),
    LeverDraft("FREE_SHIPPING", "Free shipping", "FREE_SHIPPING", unit_cost=4),
    LeverDraft("PERSONAL_CALL", "A call", "PERSONAL_CALL", contact_cost=3),
    LeverDraft("NO_ACTION", "Nothing", "NO_ACTION"),
)

GENERATE = [
    """INSERT INTO customers (id, external_id, email, attributes, acquisition_channel, stage, stage_changed_at, created_at, updated_at)
       SELECT g, 'b' || g, 'c' || g || '@example.com', '{}'::jsonb, 'OTHER',
              (ARRAY['ACQUISITION','CONVERSION','GROWTH','RETENTION','CHURNED','REACTIVATED'])[1 + (g * 7) % 6],
              now(), now() - make_interval(days => (g % 730)::int), now()
       FROM generate_series(1::bigint, :customers) AS g""",
    "SELECT setval(pg_get_serial_sequence('customers', 'id'), :customers)",
    # Scores for 90% of customers (the rest count as BRONZE).
    """INSERT INTO customer_scores (customer_id, value_tier, window_monetary, computed_at)
       SELECT g, (ARRAY['PLATINUM','GOLD','GOLD','SILVER','SILVER','SILVER','BRONZE','BRONZE','BRONZE','BRONZE'])[1 + g % 10],
              0, now()
       FROM generate_series(1::bigint, :customers) AS g WHERE g % 10 <> 9""",
    """INSERT INTO segments (key, name, created_at, updated_at)
       SELECT 'seg-' || s, 'Segment ' || s, now(), now() FROM generate_series(1, 5) AS s""",
    # Each customer in 0-2 segments.
    """INSERT INTO segment_members (segment_id, customer_id, added_at)
       SELECT s.id, g, now() FROM generate_series(1::bigint, :customers) AS g
       JOIN segments s ON s.key IN ('seg-' || (1 + g % 5), 'seg-' || (1 + (g / 5) % 5)) AND g % 3 <> 0""",
    # A churn reason for one customer in six (two for some: the latest counts).
    """INSERT INTO customer_reasons (customer_id, kind, code, at, recorded_at)
       SELECT g, 'CHURN', (ARRAY['PRICE','SERVICE','COMPETITOR','OTHER'])[1 + (g / 6 + k) % 4],
              now() - make_interval(days => (k * 30)::int), now()
       FROM generate_series(1::bigint, :customers) AS g, generate_series(1, 2) AS k
       WHERE g % 6 = 0 AND (k = 1 OR g % 12 = 0)""",
    # The decision log: 95% activated, 20% in one of four campaigns, over 26 weeks. Rows carry a
    # feature vector and an explanation of the size decide writes, so scans cost what they will.
    """INSERT INTO decisions (decision_point_id, customer_id, lever_key, propensity, expected_reward, candidates,
                              features, context, explanation, config_version, model_version, created_at,
                              activated_at, window_ends_at, campaign_id)
       SELECT :point, 1 + (g * 7919) % :customers,
              (ARRAY['DISCOUNT_10','FREE_SHIPPING','PERSONAL_CALL','NO_ACTION'])[1 + g % 4], 0.25, 0,
              CAST(:candidates AS jsonb), CAST(:features AS jsonb), '{"channel": "web"}'::jsonb,
              CAST(:explanation AS jsonb), 1, 1, t,
              CASE WHEN g % 20 <> 0 THEN t END, CASE WHEN g % 20 <> 0 THEN t + interval '7 days' END,
              CASE WHEN g % 5 = 0 THEN 1 + (g / 5) % 4 END
       FROM generate_series(CAST(:first AS bigint), CAST(:decisions AS bigint)) AS g,
            LATERAL (SELECT now() - make_interval(mins => ((g * 131) % (182 * 24 * 60))::int) AS t) AS at""",
    # Outcomes for 90% of the activated decisions, accept rates 12/9/15/5% by lever.
    """INSERT INTO outcomes (decision_id, decision_point_id, accepted, revenue, reward, late, source, created_at)
       SELECT d.id, d.decision_point_id, accepted, CASE WHEN accepted THEN 20 + (d.id * 17) % 180 END,
              CASE WHEN accepted THEN 1 ELSE 0 END, false, 'REPORTED', d.created_at + interval '1 day'
       FROM decisions d,
            LATERAL (SELECT ((d.id * 2654435761) % 1000) < (ARRAY[120, 90, 150, 50])[1 + d.id % 4] AS accepted) AS a
       WHERE d.activated_at IS NOT NULL AND d.id % 10 <> 0 AND d.id >= :first""",
]
# Between two refreshes: some of the unactivated decisions the rollup saw get activated.
ACTIVATE = """UPDATE decisions SET activated_at = created_at, window_ends_at = created_at + interval '7 days'
              WHERE id IN (SELECT id FROM decisions WHERE activated_at IS NULL AND id < :first ORDER BY id LIMIT :count)"""
# What autovacuum does to a freshly loaded table (statistics and the visibility map, which
# index-only scans need); VACUUM cannot run inside the loading transaction.
SETTLE = "VACUUM (ANALYZE)"
# What decide stores with every decision (services.offers.decisions), at a typical size.
PAYLOAD = {
    "candidates": json.dumps([lever.key for lever in LEVERS]),
    "features": json.dumps([0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.6, 0.25, 0.333, 0.1, 0.75, 1.0]),
    "explanation": json.dumps(
        {
            "estimates": [
                {"lever": lever.key, "estimatedReward": 0.123456789, "score": 0.987654321} for lever in LEVERS
            ],
            "inputs": [["stage", "GROWTH"], ["valueTier", "GOLD"], ["rfm.recency", 3],
                       ["daysSinceLastPurchase", 41], ["openAlerts", 1], ["tenureDays", 388]],
        }
    ),
}

BASELINES = {
    "SELECT count(*) FROM decisions": "SELECT count(*) FROM decisions",
    "join count per lever": """SELECT d.lever_key, count(o.id) FROM decisions d LEFT JOIN outcomes o
                               ON o.decision_id = d.id WHERE d.decision_point_id = :point GROUP BY d.lever_key""",
}


async def timed(run: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times), result


async def generate(engine: Any, statements: list[str], params: dict[str, Any]) -> None:
    async with engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement), {k: v for k, v in params.items() if f":{k}" in statement})


async def counts(engine: Any) -> tuple[int, int]:
    async with engine.connect() as conn:
        logged = await conn.scalar(text("SELECT count(*) FROM decisions"))
        outcomes = await conn.scalar(text("SELECT count(*) FROM outcomes"))
    return int(logged), int(outcomes)


async def empty_rollup(engine: Any) -> None:
    """Empty the rollup: the reports then read every decision from the log (the baseline)."""
    async with engine.begin() as conn:
        for table in ("lever_unactivated_decisions", "lever_customer_sums", "lever_day_sums", "lever_rollup_marks"):
            await conn.execute(text(f"DELETE FROM {table}"))


async def bench(url: str, decisions: int, customers: int, tail: int, repeat: int, skip_alone: bool) -> None:
    engine = make_engine(url)
    try:
        await migrate.upgrade(engine)
        services = Services.build(engine)
        for lever in LEVERS:
            await services.offers.catalog.upsert_lever(lever)
        point = await services.offers.catalog.configure(
            DecisionPointDraft("RETENTION", tuple(lever.key for lever in LEVERS), policy=Policy("THOMPSON", seed=1))
        )
        started = time.perf_counter()
        params = {"customers": customers, "decisions": decisions - tail, "first": 1, "point": point.id, **PAYLOAD}
        await generate(engine, GENERATE, params)
        logged, outcomes = await counts(engine)
        print(f"generated {logged:,} decisions, {outcomes:,} outcomes, {customers:,} customers "
              f"in {time.perf_counter() - started:.1f}s")
        async with engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text(SETTLE))
        started = time.perf_counter()
        await services.lever_rollup.refresh()  # notes the newest ids
        await services.lever_rollup.refresh()  # reads up to them, now that no transaction can still add below
        print(f"rollup built from zero over {logged:,} decisions in {time.perf_counter() - started:.1f}s "
              f"(the server refreshes every {DEFAULT_INTERVAL:.0f}s, off the request path)")
        await generate(engine, [GENERATE[-2], GENERATE[-1], ACTIVATE],
                       {**params, "first": decisions - tail + 1, "decisions": decisions, "count": tail // 10})
        logged, outcomes = await counts(engine)
        print(f"then {tail:,} decisions more, not rolled up yet (with their outcomes, and {tail // 10:,} "
              f"activations of older decisions): {logged:,} decisions, {outcomes:,} outcomes")
        baselines = {}
        for name, sql in BASELINES.items():
            async def run(sql: str = sql) -> Any:
                async with engine.connect() as conn:
                    return (await conn.execute(text(sql), {"point": point.id} if ":point" in sql else {})).all()
            baselines[name] = (await timed(run, repeat))[0]
            print(f"baseline {name}: {baselines[name]:.3f}s (median of {repeat})")
        base = baselines["SELECT count(*) FROM decisions"]
        reports = services.lever_reports
        recent = datetime.now(UTC) - timedelta(days=28)
        runs: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("leverPerformance", lambda: reports.performance("RETENTION")),
            ("leverPerformance(campaignId: 2)", lambda: reports.performance("RETENTION", ReportFilter(campaign_id=2))),
            ("leverPerformance(from: 28 days ago)", lambda: reports.performance("RETENTION", ReportFilter(start=recent))),
            ("leverTimeline(WEEK)", lambda: reports.timeline("RETENTION", "WEEK")),
        ]
        runs += [
            (f"leverPerformanceBy({dimension})", lambda d=dimension: reports.performance_by("RETENTION", d))
            for dimension in ("SEGMENT", "STAGE", "VALUE_TIER", "CHURN_REASON", "CAMPAIGN")
        ]
        rolled = [await timed(run, repeat) for _, run in runs]
        alone = []
        if not skip_alone:
            await empty_rollup(engine)
            alone = [await timed(run, repeat) for _, run in runs]
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"\n{command_line()}   (load average {load} on {os.cpu_count()} cores)")
        print(f"{'report':<40}{'median s':>9}{'max s':>8}{'x count(*)':>12}{'x join':>8}"
              f"{'log alone s':>13}{'x alone':>9}  target <= 2 s")
        for index, (name, _) in enumerate(runs):
            median, worst, _ = rolled[index]
            versus = (f"{alone[index][0]:>13.3f}{median / alone[index][0]:>9.3f}" if alone else f"{'-':>13}{'-':>9}")
            print(f"{name:<40}{median:>9.3f}{worst:>8.3f}{median / base:>12.2f}"
                  f"{median / baselines['join count per lever']:>8.3f}{versus}  {'OK' if worst <= 2 else 'MISSED'}")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--tail", type=int, default=20_000, help="decisions logged after the last refresh")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-log-alone", action="store_true", help="do not time the reports without the rollup")
    args = parser.parse_args()
    with scratch_database("postgresql") as url:
        asyncio.run(bench(url, args.decisions, args.customers, args.tail, args.repeat, args.skip_log_alone))
