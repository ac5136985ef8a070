"""leverTimeline buckets, leverPerformanceBy groups and alertsRaised on the hand-built log."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

TIMELINE = """query($interval: ReportInterval!, $from: DateTime) {
  leverTimeline(decisionPoint: "RETENTION", interval: $interval, from: $from) {
    periodStart leverKey decisions activated allocationShare outcomes accepted acceptRate revenue } }"""
BY = """query($dimension: ReportDimension!) {
  leverPerformanceBy(decisionPoint: "RETENTION", dimension: $dimension) {
    group levers { leverKey outcomes accepted probabilityBest upliftVsControl { acceptRate } } } }"""


def cells(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, int, int]]:
    return {(r["periodStart"], r["leverKey"]): (r["decisions"], r["activated"], r["accepted"]) for r in rows if r["decisions"]}


async def test_weeks_start_on_monday_utc_and_every_lever_has_a_row_per_week(services, gql, hand_log) -> None:
    await hand_log()
    rows = (await gql(TIMELINE, {"interval": "WEEK"}))["leverTimeline"]
    # Sunday 11 October 23:30 UTC belongs to the week of Monday 5 October.
    assert cells(rows) == {
        ("2026-10-05", "DISCOUNT_10"): (5, 5, 2),
        ("2026-10-05", "FREE_SHIPPING"): (3, 2, 1),
        ("2026-10-12", "PERSONAL_CALL"): (2, 2, 1),
        ("2026-10-12", "NO_ACTION"): (4, 4, 1),
    }
    assert len(rows) == 2 * 4
    share = {(r["periodStart"], r["leverKey"]): r["allocationShare"] for r in rows}
    assert share[("2026-10-05", "DISCOUNT_10")] == pytest.approx(5 / 7)  # activated only: the deferred one is out
    assert share[("2026-10-05", "FREE_SHIPPING")] == pytest.approx(2 / 7)
    assert share[("2026-10-05", "NO_ACTION")] == 0.0
    assert share[("2026-10-12", "NO_ACTION")] == pytest.approx(4 / 6)
    first = {r["leverKey"]: r for r in rows if r["periodStart"] == "2026-10-05"}
    assert first["DISCOUNT_10"]["acceptRate"] == pytest.approx(0.5) and first["DISCOUNT_10"]["revenue"] == 150.0
    assert first["PERSONAL_CALL"]["acceptRate"] is None and first["PERSONAL_CALL"]["revenue"] == 0.0


async def test_days_are_utc_calendar_days(services, gql, hand_log) -> None:
    await hand_log()
    rows = (await gql(TIMELINE, {"interval": "DAY", "from": "2026-10-07T00:00:00Z"}))["leverTimeline"]
    assert sorted({r["periodStart"] for r in rows}) == ["2026-10-07", "2026-10-11", "2026-10-12", "2026-10-13", "2026-10-14"]
    assert cells(rows)[("2026-10-11", "FREE_SHIPPING")] == (3, 2, 1)


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        ("SEGMENT", {"vip": {"DISCOUNT_10": (2, 2), "FREE_SHIPPING": (2, 1), "NO_ACTION": (2, 1)},
                     "NONE": {"DISCOUNT_10": (2, 0), "PERSONAL_CALL": (2, 1), "NO_ACTION": (2, 0)}}),
        ("STAGE", {"CONVERSION": {"DISCOUNT_10": (2, 2)}, "CHURNED": {"DISCOUNT_10": (2, 0)},
                   "ACQUISITION": {"FREE_SHIPPING": (2, 1), "PERSONAL_CALL": (2, 1), "NO_ACTION": (4, 1)}}),
        ("CHURN_REASON", {"PRICE": {"DISCOUNT_10": (2, 0)},
                          "NONE": {"DISCOUNT_10": (2, 2), "FREE_SHIPPING": (2, 1), "PERSONAL_CALL": (2, 1), "NO_ACTION": (4, 1)}}),
        ("CAMPAIGN", {"7": {"DISCOUNT_10": (2, 2), "NO_ACTION": (2, 1)},
                      "NONE": {"DISCOUNT_10": (2, 0), "FREE_SHIPPING": (2, 1), "PERSONAL_CALL": (2, 1), "NO_ACTION": (2, 0)}}),
    ],
)
async def test_breakdown_groups_by_current_customer_state(services, gql, hand_log, dimension, expected) -> None:
    await hand_log()
    groups = (await gql(BY, {"dimension": dimension}))["leverPerformanceBy"]
    got = {g["group"]: {r["leverKey"]: (r["outcomes"], r["accepted"]) for r in g["levers"]} for g in groups}
    assert got == expected
    for group in groups:  # each group is a leaderboard of its own
        assert sum(r["probabilityBest"] for r in group["levers"]) == pytest.approx(1.0)


async def test_value_tier_breakdown_uses_scores_and_bronze_for_unscored(services, gql, hand_log) -> None:
    log = await hand_log()
    groups = (await gql(BY, {"dimension": "VALUE_TIER"}))["leverPerformanceBy"]
    got = {g["group"]: {r["leverKey"]: (r["outcomes"], r["accepted"]) for r in g["levers"]} for g in groups}
    assert got == {
        log.tiers["c-1"]: {"DISCOUNT_10": (2, 2)},
        log.tiers["c-2"]: {"DISCOUNT_10": (2, 0)},
        "BRONZE": {"FREE_SHIPPING": (2, 1), "PERSONAL_CALL": (2, 1), "NO_ACTION": (4, 1)},
    }
    bronze = next(g for g in groups if g["group"] == "BRONZE")
    uplift = {r["leverKey"]: r["upliftVsControl"] for r in bronze["levers"]}
    assert uplift["FREE_SHIPPING"]["acceptRate"] == pytest.approx(0.25) and uplift["NO_ACTION"] is None


async def test_alerts_raised_per_week_count_by_type(services, gql, hand_log) -> None:
    await hand_log()
    rows = (await gql("{ alertsRaised(interval: WEEK) { periodStart type raised } }"))["alertsRaised"]
    # c-2's cancellation two days ago raised one CANCELLATION_REQUEST alarm.
    assert [(r["type"], r["raised"]) for r in rows] == [("CANCELLATION_REQUEST", 1)]
    assert date.fromisoformat(rows[0]["periodStart"]).weekday() == 0
