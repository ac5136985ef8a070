"""Fills a `ciclo serve --demo` database with some weeks of RETENTION decisions and outcomes, then
screenshots /dashboard with the OS's headless Chromium: how docs/dashboard*.png were made.

    python -m api.cli serve --demo --database-url sqlite+aiosqlite:///demo.db   # once, then stop it
    python docs/dashboard_demo.py --database-url sqlite+aiosqlite:///demo.db --out docs/dashboard.png

Acceptance per lever is drawn from fixed rates (seeded): the engine learns from the outcomes
between weeks, so the allocation chart shows it moving towards the better levers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from db.session import make_engine  # noqa: E402
from services.container import Services  # noqa: E402
from services.offers.values import BatchRequest, OutcomeReport  # noqa: E402

RATES = {"DISCOUNT_10": 0.22, "FREE_SHIPPING": 0.15, "PERSONAL_CALL": 0.27, "LOYALTY_POINTS": 0.11, "NO_ACTION": 0.06}


async def fill(database_url: str, weeks: int, per_week: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    engine = make_engine(database_url)
    services = Services.build(engine)
    offers = services.offers
    offers.start()
    try:
        async with services.sessions() as session:
            ids = list((await session.scalars(text("SELECT external_id FROM customers ORDER BY id"))).all())
        start = datetime.now(UTC) - timedelta(weeks=weeks)
        for week in range(weeks):
            moment = start + timedelta(weeks=week)
            offers.decisions.clock = lambda moment=moment: moment
            offers.outcomes.clock = lambda moment=moment: moment + timedelta(days=1)
            sample = tuple(rng.choice(ids, size=per_week, replace=False))
            batch = await offers.decisions.decide_batch(BatchRequest("RETENTION", external_ids=sample))
            reports = []
            for decision in batch.decisions:
                accepted = bool(rng.random() < RATES.get(decision.lever, 0.1))
                revenue = float(round(rng.lognormal(3.9, 0.5), 2)) if accepted else None
                reports.append(OutcomeReport(decision.id, accepted, revenue))
            await offers.outcomes.record_many(reports)
            await asyncio.sleep(1.5)  # let the learner take the week in before the next one
            print(f"week {week + 1}/{weeks}: {len(batch.decisions)} decisions", file=sys.stderr)
    finally:
        await offers.stop()
        await engine.dispose()


def screenshot(database_url: str, out: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    from bench.common import live_server

    with live_server(database_url) as url, tempfile.TemporaryDirectory(prefix="ciclo-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,1450", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
        try:
            driver.get(f"{url}/dashboard?decisionPoint=RETENTION")
            WebDriverWait(driver, 60).until(lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))
            driver.save_screenshot(str(out))
        finally:
            driver.quit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--weeks", type=int, default=10)
    parser.add_argument("--per-week", type=int, default=300)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("docs/dashboard.png"))
    args = parser.parse_args()
    asyncio.run(fill(args.database_url, args.weeks, args.per_week, args.seed))
    screenshot(args.database_url, args.out)
    print(f"wrote {args.out}")
