"""Churn alarms over GraphQL: raised once per cause, auto-resolved, actioned, swept and expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.container import Services
from services.domain import CustomerDraft

NOW = datetime.now(UTC).replace(microsecond=0)

ALERTS = """
query($filter: AlertFilter, $first: Int!, $after: String) {
  alerts(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id customerId type severity status recommendedAction evidenceEventId } }
    pageInfo { hasNextPage endCursor }
  }
}"""
RECORD = "mutation($input: [EventInput!]!) { recordEvents(input: $input) { accepted errors { message } } }"


def ev(ext: str, kind: str, days_ago: float, **extra: Any) -> dict[str, Any]:
    return {"externalId": ext, "type": kind, "occurredAt": (NOW - timedelta(days=days_ago)).isoformat(), **extra}


async def setup(services: Services, gql: Any) -> dict[str, str]:
    services.lifecycle.clock = lambda: NOW
    await services.customers.upsert_many([CustomerDraft(external_id=f"a{i}") for i in range(1, 6)])
    events = [
        ev("a1", "PURCHASE", 40, amount=20.0), ev("a1", "COMPLAINT", 2, reason="late delivery"),
        ev("a2", "PURCHASE", 40, amount=20.0), ev("a2", "SURVEY", 1, score=3),
        ev("a3", "PURCHASE", 45, amount=20.0), ev("a3", "SUBSCRIPTION_CANCELLED", 1, reason="price"),
        # a4 buys every 10 days, then nothing for 30: twice its own rhythm.
        ev("a4", "PURCHASE", 50, amount=5.0), ev("a4", "PURCHASE", 40, amount=5.0), ev("a4", "PURCHASE", 30, amount=5.0),
        ev("a5", "PURCHASE", 20, amount=5.0), ev("a5", "COMPLAINT", 3), ev("a5", "SURVEY", 2, score=1),
    ]
    data = await gql(RECORD, {"input": events})
    assert data["recordEvents"] == {"accepted": len(events), "errors": []}
    return {c.external_id: str(c.id) for c in (await services.customers.many(range(1, 100))).values()}


async def alert_list(gql: Any, **filter: Any) -> list[dict[str, Any]]:
    data = await gql(ALERTS, {"filter": filter or None, "first": 100})
    return [e["node"] for e in data["alerts"]["edges"]]


async def test_each_alarm_type_raises_one_alert_with_evidence_and_recommended_action(services: Services, gql: Any) -> None:
    ids = await setup(services, gql)
    found = {(a["customerId"], a["type"]): a for a in await alert_list(gql)}
    assert set(found) == {
        (ids["a1"], "COMPLAINT"), (ids["a2"], "NEGATIVE_SURVEY"), (ids["a3"], "CANCELLATION_REQUEST"),
        (ids["a4"], "INACTIVITY"), (ids["a5"], "COMPLAINT"), (ids["a5"], "NEGATIVE_SURVEY"),
    }
    assert all(a["status"] == "OPEN" and a["evidenceEventId"] for a in found.values())
    assert found[(ids["a3"], "CANCELLATION_REQUEST")]["recommendedAction"] == "RECOVERY"
    assert found[(ids["a1"], "COMPLAINT")]["recommendedAction"] == "RETENTION"
    # Several open causes raise the severity.
    assert found[(ids["a1"], "COMPLAINT")]["severity"] == "LOW"
    assert found[(ids["a5"], "COMPLAINT")]["severity"] == "MEDIUM"


async def test_a_repeated_cause_never_duplicates_an_open_alert(services: Services, gql: Any) -> None:
    ids = await setup(services, gql)
    await gql(RECORD, {"input": [ev("a1", "COMPLAINT", 1), ev("a1", "COMPLAINT", 0.5)]})
    complaints = await alert_list(gql, type="COMPLAINT")
    assert [a["customerId"] for a in complaints].count(ids["a1"]) == 1


async def test_alerts_resolve_when_the_customer_buys_again_or_the_survey_recovers(services: Services, gql: Any) -> None:
    ids = await setup(services, gql)
    await gql(RECORD, {"input": [ev("a1", "PURCHASE", 0.5, amount=9.0), ev("a2", "SURVEY", 0.5, score=9)]})
    open_ = {(a["customerId"], a["type"]) for a in await alert_list(gql, status="OPEN")}
    assert (ids["a1"], "COMPLAINT") not in open_
    assert (ids["a2"], "NEGATIVE_SURVEY") not in open_
    resolved = {(a["customerId"], a["type"]) for a in await alert_list(gql, status="RESOLVED")}
    assert {(ids["a1"], "COMPLAINT"), (ids["a2"], "NEGATIVE_SURVEY")} <= resolved


async def test_operators_action_and_resolve_alerts_and_closed_ones_are_refused(services: Services, gql: Any) -> None:
    await setup(services, gql)
    target = (await alert_list(gql, type="INACTIVITY"))[0]["id"]
    move = """mutation($id: ID!, $note: String) {
      a: actionAlert(id: $id, note: $note) { __typename ... on Alert { status note } }
    }"""
    assert (await gql(move, {"id": target, "note": "called"}))["a"] == {"__typename": "Alert", "status": "ACTIONED", "note": "called"}
    resolve = """mutation($id: ID!) { r: resolveAlert(id: $id) {
      __typename ... on Alert { status resolvedAt } ... on AlertClosed { status } ... on AlertNotFound { id } } }"""
    first = (await gql(resolve, {"id": target}))["r"]
    assert first["__typename"] == "Alert" and first["status"] == "RESOLVED" and first["resolvedAt"]
    assert (await gql(resolve, {"id": target}))["r"] == {"__typename": "AlertClosed", "status": "RESOLVED"}
    assert (await gql(resolve, {"id": "999999"}))["r"] == {"__typename": "AlertNotFound", "id": "999999"}


async def test_alerts_page_by_cursor_and_filter_by_stage(services: Services, gql: Any) -> None:
    ids = await setup(services, gql)
    seen: list[str] = []
    after = None
    while True:
        data = await gql(ALERTS, {"filter": None, "first": 4, "after": after})
        seen += [e["node"]["id"] for e in data["alerts"]["edges"]]
        if not data["alerts"]["pageInfo"]["hasNextPage"]:
            break
        after = data["alerts"]["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 6
    churned = await alert_list(gql, stage="CHURNED")
    assert {a["customerId"] for a in churned} == {ids["a3"]}


async def test_customer_view_shows_alerts(services: Services, gql: Any) -> None:
    ids = await setup(services, gql)
    data = await gql('{ customerByExternalId(externalId: "a5") { alerts { type status } } }')
    assert sorted(a["type"] for a in data["customerByExternalId"]["alerts"]) == ["COMPLAINT", "NEGATIVE_SURVEY"]
    assert ids


async def test_the_sweep_raises_inactivity_as_time_passes_and_expires_stale_alerts(services: Services, gql: Any) -> None:
    await setup(services, gql)
    # 35 days on: a2 (one purchase 40 days ago) has crossed the 60-day floor; alerts older than the
    # 30-day TTL that nobody acted on expire.
    services.lifecycle.clock = lambda: NOW + timedelta(days=35)
    outcome = await services.lifecycle.sweep()
    assert outcome.expired >= 4
    inactivity = await alert_list(gql, type="INACTIVITY", status="OPEN")
    assert len(inactivity) >= 1
    # Sweeping again changes nothing: it is idempotent.
    again = await services.lifecycle.sweep()
    assert (again.raised, again.expired, again.moved) == ((), 0, 0)
