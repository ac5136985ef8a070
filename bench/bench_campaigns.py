"""Campaign ranking on PostgreSQL: createCampaign over a segment of N customers (default 100,000;
the target is <= 10 s to rank them).

The portfolio is generated with set-based SQL (customers, their metrics and scores, one segment
holding everyone). The model is trained on a few hundred outcomes so the ranking is not a tie.
Printed, each with its ratio to the baseline measured in the same run, a plain page-by-page
scan of the segment's members with the same facts query the ranking uses (no scoring):

* the ranking alone (facts, encoding and one engine call per 1,000 members, then a sort);
* createCampaign with --limit targets (ranking + decideBatch with logging + the campaign rows).

    python bench/bench_campaigns.py [--customers 100000] [--limit 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench.common import command_line, scratch_database  # noqa: E402
from db import migrate  # noqa: E402
from db.repositories import campaigns as campaign_repo  # noqa: E402
from db.repositories import offers as offer_repo  # noqa: E402
from db.session import make_engine  # noqa: E402
from services.container import Services  # noqa: E402
from services.offers import features, mapping  # noqa: E402
from services.offers.campaigns import CampaignDraft  # noqa: E402
from services.offers.campaigns import RANK_PAGE  # noqa: E402
from services.offers.values import DecideRequest, DecisionPointDraft, LeverDraft, OutcomeReport, Policy  # noqa: E402

FEATURES = ("stage", "valueTier", "rfm.recency", "rfm.frequency", "rfm.monetary", "attributes.age", "daysSinceLastPurchase")
GENERATE = [
    """INSERT INTO customers (id, external_id, attributes, acquisition_channel, stage, stage_changed_at, created_at, updated_at)
       SELECT g, 'b' || g, jsonb_build_object('age', 18 + (g * 7919) % 60),
              (ARRAY['WORD_OF_MOUTH','REFERRAL','ADVERTISING','DIRECT'])[1 + (g * 31) % 4],
              (ARRAY['CONVERSION','GROWTH','RETENTION','CHURNED'])[1 + g % 4], now(),
              now() - make_interval(days => (g % 730)::int), now()
       FROM generate_series(1::bigint, :n) AS g""",
    "SELECT setval(pg_get_serial_sequence('customers', 'id'), :n)",
    """INSERT INTO customer_metrics (customer_id, first_purchase_at, last_purchase_at, purchase_count, monetary_total, updated_at)
       SELECT g, now() - make_interval(days => (g % 700)::int), now() - make_interval(days => (g * 13 % 300)::int),
              1 + g % 9, 20 + (g * 37) % 900, now()
       FROM generate_series(1::bigint, :n) AS g""",
    """INSERT INTO customer_scores (customer_id, recency, frequency, monetary, rfm_segment, value_tier, window_monetary, computed_at)
       SELECT g, 1 + g % 5, 1 + (g / 5) % 5, 1 + (g / 25) % 5, 'LOYAL',
              (ARRAY['PLATINUM','GOLD','SILVER','BRONZE'])[1 + (g * 7) % 4], 0, now()
       FROM generate_series(1::bigint, :n) AS g""",
    "INSERT INTO segments (key, name, created_at, updated_at) VALUES ('everyone', 'Everyone', now(), now())",
    """INSERT INTO segment_members (segment_id, customer_id, added_at)
       SELECT (SELECT id FROM segments WHERE key = 'everyone'), g, now() FROM generate_series(1::bigint, :n) AS g""",
    "ANALYZE",
]


async def run(url: str, customers: int, limit: int) -> None:
    engine = make_engine(url)
    try:
        await migrate.upgrade(engine)
        started = time.perf_counter()
        async with engine.begin() as conn:
            for statement in GENERATE:
                await conn.execute(text(statement), {"n": customers} if ":n" in statement else {})
        print(f"generated {customers:,} customers in one segment in {time.perf_counter() - started:.1f}s")
        services = Services.build(engine)
        offers = services.offers
        for lever in (
            LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10),
            LeverDraft("DISCOUNT_20", "20% off", "DISCOUNT", discount_percent=20),
            LeverDraft("FREE_SHIPPING", "Free shipping", "FREE_SHIPPING", unit_cost=4),
            LeverDraft("BUNDLE", "Bundle", "BUNDLE", unit_cost=2),
            LeverDraft("NO_ACTION", "Nothing", "NO_ACTION"),
        ):
            await offers.catalog.upsert_lever(lever)
        point = await offers.catalog.configure(DecisionPointDraft(
            "CROSS_SELL", ("DISCOUNT_10", "DISCOUNT_20", "FREE_SHIPPING", "BUNDLE", "NO_ACTION"), features=FEATURES,
            reward="REVENUE", policy=Policy("LIN_TS", alpha=0.5, seed=1),
        ))
        for i in range(1, 301):
            d = await offers.decisions.decide(DecideRequest("CROSS_SELL", f"b{i * 97 % customers + 1}"))
            await offers.outcomes.record(OutcomeReport(d.id, accepted=i % 3 == 0, revenue=float(i % 50) if i % 3 == 0 else None))
        await offers.sync()

        started = time.perf_counter()
        needs = features.needs(point.features)
        after, scanned = 0, 0
        while True:
            async with services.sessions() as session:
                page = await campaign_repo.segment_facts(session, "everyone", after, RANK_PAGE, **needs)
            if not page:
                break
            after, scanned = page[-1].id, scanned + len(page)
        baseline = time.perf_counter() - started
        print(f"baseline: plain scan of the segment's facts, {scanned:,} members in pages of {RANK_PAGE:,}: {baseline:.2f}s")

        started = time.perf_counter()
        async with services.sessions() as session:
            levers = {row.key: mapping.lever(row) for row in await offer_repo.levers_by_keys(session, point.levers)}
        ranked, _ = await offers.campaigns.rank(point, levers, "everyone", {})
        elapsed = time.perf_counter() - started
        print(f"ranking {len(ranked):,} customers: {elapsed:.2f}s = {elapsed / baseline:.1f}x the baseline; "
              f"target <= 10s: {'OK' if elapsed <= 10 else 'MISSED'}")

        started = time.perf_counter()
        campaign = await offers.campaigns.create(CampaignDraft("bench", "CROSS_SELL", "everyone", limit))
        elapsed = time.perf_counter() - started
        print(f"createCampaign (rank {campaign.ranked:,}, log {campaign.targeted:,} decisions): {elapsed:.2f}s "
              f"= {elapsed / baseline:.1f}x the baseline; target <= 10s: {'OK' if elapsed <= 10 else 'MISSED'}")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=1000)
    args = parser.parse_args()
    print(command_line())
    with scratch_database("postgresql") as url:
        asyncio.run(run(url, args.customers, args.limit))


if __name__ == "__main__":
    main()
