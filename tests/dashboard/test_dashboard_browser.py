"""/dashboard in a real headless Chromium against a live server seeded with the hand-built log:
every chart draws bars from the GraphQL data, the page logs no error, and a screenshot is saved
(artifacts/dashboard-<backend>.png, and in the test's tmp dir)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx

from services.container import Services
from tests.conftest import start_server, stop_server
from tests.reports.hand_log import build_hand_log

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1500",
)


def browser(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def bars(driver: Any, chart: str) -> int:
    return len(driver.find_elements("css selector", f'[data-chart="{chart}"] svg rect.bar'))


async def test_dashboard_draws_every_chart_from_the_api_with_an_analyst_key(services: Services, database_url: str, tmp_path: Path) -> None:
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "install chromium and chromium-driver (see .ci/run)"
    from selenium.webdriver.support.ui import WebDriverWait

    await build_hand_log(services)
    analyst_key, _ = await services.keys.create("ANALYST", "dashboard")
    server = start_server(database_url, auth=True)
    profile = Path(tempfile.mkdtemp(prefix="ciclo-chromium-"))
    driver = browser(profile)
    try:
        page = httpx.get(f"{server.url}/dashboard")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert httpx.get(f"{server.url}/dashboard/assets/charts.js").status_code == 200
        # Without a key the data is refused and the page says how to pass one.
        driver.get(f"{server.url}/dashboard?decisionPoint=RETENTION")
        WebDriverWait(driver, 60).until(lambda d: "API key" in d.find_element("id", "status").text)
        driver.get_log("browser")  # drain: the refused request was logged as a failed load
        driver.get("about:blank")  # a fragment change alone would not reload the page
        driver.get(f"{server.url}/dashboard?decisionPoint=RETENTION#key={analyst_key}")
        WebDriverWait(driver, 60).until(lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))
        state = driver.find_element("tag name", "body").get_attribute("data-ready")
        status = driver.find_element("id", "status").text
        assert state == "true", status
        assert "RETENTION: 12 outcomes" in status
        # One bar per lever with outcomes, each with its interval whisker.
        assert bars(driver, "accept-rate") == 4
        assert len(driver.find_elements("css selector", '[data-chart="accept-rate"] path.whisker')) == 4
        assert bars(driver, "uplift") == 3  # the three levers against the NO_ACTION control
        assert bars(driver, "allocation") == 4  # two weeks, two levers each
        assert bars(driver, "funnel") > 0
        assert bars(driver, "alerts") == 1
        assert bars(driver, "campaigns") == 6  # campaign 7: two levers; no campaign: four
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
        shot = tmp_path / "dashboard.png"
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        artifacts = REPO / "artifacts"
        artifacts.mkdir(exist_ok=True)
        backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
        shutil.copyfile(shot, artifacts / f"dashboard-{backend}.png")
    finally:
        driver.quit()
        stop_server(server)
        shutil.rmtree(profile, ignore_errors=True)
