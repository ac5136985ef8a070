"""`ciclo campaign create` (a ranked target list to CSV) and `ciclo campaign report ID`."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

PAGE = 1000


def add_commands(commands: Any, database_option: Callable[[argparse.ArgumentParser], None]) -> None:
    campaign = commands.add_parser("campaign", help="cross-sell campaigns").add_subparsers(metavar="ACTION")
    create = campaign.add_parser("create", help="rank a segment, decide for its best customers and write the targets to CSV")
    create.add_argument("--name", required=True)
    create.add_argument("--decision-point", required=True)
    create.add_argument("--segment", required=True, help="segment key")
    create.add_argument("--limit", type=int, required=True, help="how many customers to target")
    create.add_argument("--out", type=Path, required=True, help="CSV file to write")
    create.add_argument("--context", type=json.loads, default=None, help="JSON object sent as the request context")
    create.add_argument("--activate", action="store_true", help="activate the decisions now (default: deferred)")
    database_option(create)
    create.set_defaults(handler=lambda a: asyncio.run(_create(a)))
    report = campaign.add_parser("report", help="a campaign's outcomes per lever, treated against control")
    report.add_argument("id", type=int)
    database_option(report)
    report.set_defaults(handler=lambda a: asyncio.run(_report(a)))


async def _create(args: argparse.Namespace) -> int:
    from api.offer_cli import _open
    from services.errors import ServiceError
    from services.offers.campaigns import CampaignDraft

    services = await _open(args.database_url)
    try:
        draft = CampaignDraft(args.name, args.decision_point, args.segment, args.limit, not args.activate, args.context)
        try:
            campaign = await services.offers.campaigns.create(draft)
        except ServiceError as exc:
            print(f"refused: {exc.message}", file=sys.stderr)
            return 2
        externals: dict[int, str] = {}
        with args.out.open("w", newline="") as sink:
            out = csv.writer(sink)
            out.writerow(["rank", "decision_id", "external_id", "lever", "propensity", "expected_reward"])
            rank = 0
            while True:
                page = await services.offers.campaigns.targets(campaign, rank, PAGE)
                if not page:
                    break
                found = await services.customers.many([d.customer_id for d in page])
                externals = {i: c.external_id for i, c in found.items()}
                for d in page:
                    rank += 1
                    out.writerow([rank, d.id, externals.get(d.customer_id, ""), d.lever, f"{d.propensity:.6f}", f"{d.expected_reward:.6f}"])
    finally:
        await services.engine.dispose()
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(campaign.skipped.items())) or "none"
    print(f"campaign {campaign.id}: ranked {campaign.ranked}, targeted {campaign.targeted}, skipped {skipped}; wrote {args.out}")
    return 0


async def _report(args: argparse.Namespace) -> int:
    from api.offer_cli import _open

    services = await _open(args.database_url)
    try:
        campaign = await services.offers.campaigns.get(args.id)
        if campaign is None:
            print(f"refused: no campaign with id {args.id}", file=sys.stderr)
            return 2
        report = await services.offers.campaigns.report(args.id)
    finally:
        await services.engine.dispose()
    print(f"campaign {campaign.id} {campaign.name!r}: {campaign.decision_point} on segment {campaign.segment_key}, "
          f"targeted {campaign.targeted} of {campaign.ranked}")
    print(f"{'lever':<20}{'targets':>9}{'activated':>11}{'outcomes':>10}{'accepted':>10}{'rate':>8}{'revenue':>12}{'cost':>10}")
    for row in (*report.levers, report.treated, report.control):
        rate = f"{row.accept_rate:.1%}" if row.accept_rate is not None else "-"
        print(f"{row.lever:<20}{row.targets:>9}{row.activated:>11}{row.outcomes:>10}{row.accepted:>10}{rate:>8}"
              f"{row.revenue:>12,.2f}{row.cost:>10,.2f}")
    print(f"uplift (treated - control accept rate): {'-' if report.uplift is None else f'{report.uplift:+.1%}'}")
    return 0
