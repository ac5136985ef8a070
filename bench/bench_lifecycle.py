"""Lifecycle benchmarks.

1. Full recompute of RFM quintiles, value tiers and every rule segment for N customers on
   PostgreSQL (default 1,000,000; the target is <= 60 s). The portfolio is generated with
   set-based SQL (generate_series); the baseline is one plain GROUP BY over the purchases in the
   same database, so the figure is also printed as a ratio against it.
2. recordEvents throughput over GraphQL (in-process schema, batches of 1,000) on SQLite, with and
   without the incremental lifecycle pass.

    python bench/bench_lifecycle.py rescore [--customers 1000000]
    python bench/bench_lifecycle.py ingest [--events 30000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench.common import command_line, scratch_database  # noqa: E402
from db import migrate  # noqa: E402
from db.session import make_engine  # noqa: E402
from services.container import Services  # noqa: E402
from services.domain import CustomerDraft  # noqa: E402

RULES = {
    "platinum": {"field": "valueTier", "op": "EQ", "value": "PLATINUM"},
    "at-risk-value": {"all": [{"field": "rfm.segment", "op": "IN", "value": ["AT_RISK", "CANT_LOSE_THEM"]},
                              {"field": "valueTier", "op": "IN", "value": ["PLATINUM", "GOLD"]}]},
    "norte-seniors-a": {"all": [{"field": "region", "op": "EQ", "value": "Norte"},
                                {"field": "attributes.age", "op": "GTE", "value": 50},
                                {"field": "attributes.credit", "op": "EQ", "value": "A"}]},
    "frequent-90d": {"field": "events.count", "eventType": "PURCHASE", "withinDays": 90, "op": "GTE", "value": 2},
    "complainers": {"field": "alerts.open", "op": "CONTAINS", "value": "COMPLAINT"},
}

GENERATE = [
    """INSERT INTO customers (id, external_id, email, region, attributes, acquisition_channel, stage,
                              stage_changed_at, created_at, updated_at)
       SELECT g, 'b' || g, CASE WHEN g % 3 = 0 THEN 'c' || g || '@example.com' END,
              (ARRAY['Norte','Sur','Este','Oeste'])[1 + g % 4],
              jsonb_build_object('age', 18 + (g * 7919) % 60, 'credit', (ARRAY['A','B','C'])[1 + g % 3]),
              (ARRAY['WORD_OF_MOUTH','REFERRAL','ADVERTISING','DIRECT','PARTNER','OTHER'])[1 + (g * 31) % 6],
              'AWARENESS', now(), now() - make_interval(days => (g % 730)::int), now()
       FROM generate_series(1::bigint, :n) AS g""",
    "SELECT setval(pg_get_serial_sequence('customers', 'id'), :n)",
    # 0-8 purchases per customer (about 4 on average) over two years.
    """INSERT INTO events (customer_id, type, occurred_at, recorded_at, amount, payload)
       SELECT g, 'PURCHASE', now() - make_interval(days => ((g * k * 37) % 700)::int, mins => k), now(),
              5 + (g * k) % 200, '{}'::jsonb
       FROM generate_series(1::bigint, :n) AS g, generate_series(1, 8) AS k
       WHERE k <= (g * 13) % 9""",
    """INSERT INTO events (customer_id, type, occurred_at, recorded_at, payload)
       SELECT g, 'COMPLAINT', now() - make_interval(days => (g % 60)::int), now(), '{}'::jsonb
       FROM generate_series(1::bigint, :n) AS g WHERE g % 50 = 0""",
    # The metrics the incremental pass keeps (here built in one statement for the setup).
    """INSERT INTO customer_metrics (customer_id, first_purchase_at, last_purchase_at, purchase_count,
                                     monetary_total, updated_at)
       SELECT c.id, min(e.occurred_at), max(e.occurred_at), count(e.id), coalesce(sum(e.amount), 0), now()
       FROM customers c LEFT JOIN events e ON e.customer_id = c.id AND e.type = 'PURCHASE'
       GROUP BY c.id""",
    """INSERT INTO alerts (customer_id, type, severity, status, action, evidence_event_id, raised_at, updated_at)
       SELECT customer_id, 'COMPLAINT', 'LOW', 'OPEN', 'RETENTION', id, now(), now()
       FROM events WHERE type = 'COMPLAINT'""",
    "ANALYZE",
]
BASELINE = """SELECT count(*) FROM (SELECT customer_id, count(*), sum(amount) FROM events
              WHERE type = 'PURCHASE' GROUP BY customer_id) AS t"""


async def rescore(url: str, customers: int) -> None:
    engine = make_engine(url)
    try:
        await migrate.upgrade(engine)
        started = time.perf_counter()
        async with engine.begin() as conn:
            for statement in GENERATE:
                await conn.execute(text(statement), {"n": customers} if ":n" in statement else {})
            events = await conn.scalar(text("SELECT count(*) FROM events"))
        print(f"generated {customers:,} customers and {events:,} events in {time.perf_counter() - started:.1f}s")
        services = Services.build(engine)
        async with engine.begin() as conn:
            # Rules stored as they are by upsertRuleSegment, members left for the timed run.
            for key, rule in RULES.items():
                await conn.execute(
                    text("INSERT INTO segments (key, name, rule, created_at, updated_at) "
                         "VALUES (:key, :key, CAST(:rule AS jsonb), now(), now())"),
                    {"key": key, "rule": json.dumps(rule)},
                )
        async with engine.connect() as conn:
            started = time.perf_counter()
            await conn.scalar(text(BASELINE))
            baseline = time.perf_counter() - started
        for run in ("first (all members new)", "second (steady state)"):
            started = time.perf_counter()
            await services.lifecycle.rescore()
            elapsed = time.perf_counter() - started
            print(f"rescore {run}: {elapsed:.1f}s for {customers:,} customers "
                  f"(RFM + tiers + {len(RULES)} rule segments) = {elapsed / baseline:.1f}x the baseline "
                  f"GROUP BY over purchases ({baseline:.2f}s); target <= 60s: {'OK' if elapsed <= 60 else 'MISSED'}")
        async with engine.connect() as conn:
            tiers = dict((await conn.execute(text(
                "SELECT value_tier, count(*) FROM customer_scores GROUP BY value_tier"))).all())
            members = dict((await conn.execute(text(
                "SELECT s.key, count(m.customer_id) FROM segments s LEFT JOIN segment_members m "
                "ON m.segment_id = s.id GROUP BY s.key"))).all())
        print(f"tiers {tiers}; segment members {members}")
    finally:
        await engine.dispose()


MUTATION = "mutation($input:[EventInput!]!){ recordEvents(input:$input){ accepted errors{message} } }"


async def ingest(url: str, total: int, lifecycle: bool) -> float:
    from api.context import Context
    from api.loaders import Loaders
    from api.schema import build_schema

    engine = make_engine(url)
    await migrate.upgrade(engine)
    services = Services.build(engine)
    if not lifecycle:
        services.events._on_recorded = None  # the baseline: the same call without the pass
    customers = 5000
    await services.customers.upsert_many([CustomerDraft(external_id=f"b{i}") for i in range(customers)])
    schema = build_schema()
    rng = random.Random(1)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    kinds = ["PURCHASE"] * 6 + ["SURVEY", "COMPLAINT", "CONTACT", "SIGNUP"]

    def event() -> dict[str, object]:
        kind = rng.choice(kinds)
        item: dict[str, object] = {"externalId": f"b{rng.randrange(customers)}", "type": kind,
                                   "occurredAt": (start + timedelta(minutes=rng.randrange(500_000))).isoformat()}
        if kind == "PURCHASE":
            item["amount"] = round(rng.uniform(5, 300), 2)
        if kind == "SURVEY":
            item["score"] = rng.randrange(11)
        return item

    batches = [[event() for _ in range(1000)] for _ in range(total // 1000 + 1)]
    elapsed = 0.0
    for index, batch in enumerate(batches):
        context = Context(services=services, loaders=Loaders.build(services), request_id="bench")
        started = time.perf_counter()
        result = await schema.execute(MUTATION, variable_values={"input": batch}, context_value=context)
        if index:  # the first batch warms caches up
            elapsed += time.perf_counter() - started
        assert not result.errors and not result.data["recordEvents"]["errors"], result
    await engine.dispose()
    return (len(batches) - 1) * 1000 / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    scores = sub.add_parser("rescore")
    scores.add_argument("--customers", type=int, default=1_000_000)
    feed = sub.add_parser("ingest")
    feed.add_argument("--events", type=int, default=30_000)
    args = parser.parse_args()
    print(command_line())
    if args.what == "rescore":
        with scratch_database("postgresql") as url:
            asyncio.run(rescore(url, args.customers))
    else:
        with scratch_database("sqlite") as url:
            without = asyncio.run(ingest(url, args.events, lifecycle=False))
        with scratch_database("sqlite") as url:
            with_pass = asyncio.run(ingest(url, args.events, lifecycle=True))
        print(f"recordEvents over GraphQL on SQLite, batches of 1,000: {without:,.0f} events/s without the "
              f"lifecycle pass, {with_pass:,.0f} events/s with it ({with_pass / without:.2f}x)")


if __name__ == "__main__":
    main()
