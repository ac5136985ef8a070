"""What the guardrails cost in the decide path, in process, each figure against its baseline from
the same run: a decision point with the same levers, features and policy and no guardrails.

(a) decide, one customer a call: p50 / p99 latency, plain (the same levers without rules) vs
    rules (eligibility rules on three levers, tier caps, a 5 % control group) vs guarded (the same
    plus NET_VALUE arbitration) vs guarded with a shadow arm
(b) decide_batch, 10,000 customers a call: decisions/s including logging, same three points

Run: python bench/bench_guardrails.py [--backend sqlite|postgresql] [--customers 10000] [--calls 400]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import command_line, percentiles, scratch_database  # noqa: E402
from db import migrate  # noqa: E402
from db.session import make_engine  # noqa: E402
from services.container import Services  # noqa: E402
from services.domain import CustomerDraft  # noqa: E402
from services.offers.values import (  # noqa: E402
    BatchRequest,
    DecideRequest,
    DecisionPointDraft,
    Guardrails,
    LeverDraft,
    Policy,
    PolicyArm,
)

TIERED = {"field": "attributes.tier", "op": "IN", "value": ["PLATINUM", "GOLD"]}
PRICE = {"field": "attributes.reason", "op": "EQ", "value": "PRICE"}
TENURE = {"field": "attributes.days", "op": "GTE", "value": 30}
LEVERS = (
    LeverDraft("DISCOUNT_10", "10% off", "DISCOUNT", discount_percent=10, eligibility=TENURE),
    LeverDraft("DISCOUNT_20", "20% off", "DISCOUNT", discount_percent=20, eligibility={"all": [TIERED, TENURE]}),
    LeverDraft("WINBACK", "15% back", "DISCOUNT", discount_percent=15, eligibility=PRICE),
    LeverDraft("FREE_SHIPPING", "Free shipping", "FREE_SHIPPING", unit_cost=4),
    LeverDraft("NO_ACTION", "Nothing", "NO_ACTION"),
)
FEATURES = ("attributes.tier", "attributes.days", "context.channel")
GUARDED = Guardrails(
    max_discount_percent=(("SILVER", 10.0), ("BRONZE", 10.0)), objective="NET_VALUE",
    value_attribute="attributes.value", control_share=0.05,
)


async def prepare(url: str, customers: int) -> Services:
    engine = make_engine(url)
    await migrate.upgrade(engine)
    services = Services.build(engine)
    tiers = ("PLATINUM", "GOLD", "SILVER", "BRONZE")
    drafts = [
        CustomerDraft(external_id=f"g{i}", attributes={
            "tier": tiers[i % 4], "days": i % 90, "reason": "PRICE" if i % 5 == 0 else "OTHER", "value": 20.0 + i % 200,
        })
        for i in range(customers)
    ]
    for start in range(0, customers, 10_000):
        assert not (await services.customers.upsert_many(drafts[start : start + 10_000])).errors
    plain = tuple(replace(lever, key=f"{lever.key}_P", eligibility=None) for lever in LEVERS)
    for lever in (*LEVERS, *plain):
        await services.offers.catalog.upsert_lever(lever)
    policy = Policy("LIN_TS", alpha=0.5, seed=1)
    for key, levers, rails in (
        ("PLAIN", plain, Guardrails()),
        ("RULES", LEVERS, Guardrails(**{**_fields(GUARDED), "objective": "REWARD"})),
        ("GUARDED", LEVERS, GUARDED),
        ("SHADOWED", LEVERS, Guardrails(**{**_fields(GUARDED), "challengers": (PolicyArm("shadow", Policy("LIN_UCB"), shadow=True),)})),
    ):
        await services.offers.catalog.configure(DecisionPointDraft(
            key, tuple(lever.key for lever in levers), features=FEATURES, policy=policy,
            context_examples=({"channel": "web"}, {"channel": "app"}), guardrails=rails,
        ))
    return services


def _fields(rails: Guardrails) -> dict[str, object]:
    return {name: getattr(rails, name) for name in rails.__dataclass_fields__}


async def single(services: Services, key: str, calls: int, customers: int) -> dict[str, float]:
    latencies = []
    for n in range(calls):
        started = time.perf_counter()
        await services.offers.decisions.decide(DecideRequest(key, f"g{(n * 7919) % customers}", context={"channel": "web"}))
        latencies.append((time.perf_counter() - started) * 1000)
    return percentiles(latencies[calls // 10 :])  # the first calls load models and caches


async def batch(services: Services, key: str, customers: int) -> float:
    ids = tuple(f"g{i}" for i in range(min(customers, 10_000)))
    await services.offers.decisions.decide_batch(BatchRequest(key, ids[:100], context={"channel": "web"}))
    started = time.perf_counter()
    result = await services.offers.decisions.decide_batch(BatchRequest(key, ids, context={"channel": "web"}))
    assert not result.errors, result.errors[:3]
    return len(result.decisions) / (time.perf_counter() - started)


async def run(url: str, args: argparse.Namespace) -> None:
    services = await prepare(url, args.customers)
    try:
        print(command_line())
        print(f"{'decision point':<12}{'decide p50 ms':>15}{'p99 ms':>9}{'vs plain':>10}{'batch dec/s':>13}{'vs plain':>10}")
        base: tuple[float, float] | None = None
        for key in ("PLAIN", "RULES", "GUARDED", "SHADOWED"):
            lat = await single(services, key, args.calls, args.customers)
            rate = await batch(services, key, args.customers)
            if base is None:
                base = (lat["p50"], rate)
            print(f"{key:<12}{lat['p50']:>15.2f}{lat['p99']:>9.2f}{lat['p50'] / base[0]:>9.2f}x"
                  f"{rate:>13,.0f}{rate / base[1]:>9.2f}x")
    finally:
        await services.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    with scratch_database(args.backend) as url:
        asyncio.run(run(url, args))


if __name__ == "__main__":
    main()
