"""Contact policy: limits per decision point, channel and overall, suppression after rejections,
checked in the decision's transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.offers.contact_policy import ContactLimit, ContactPolicy
from services.offers.refusals import ContactPolicyBlocked
from services.offers.values import DecideRequest, OutcomeReport

POLICY = """
mutation($input: ContactPolicyInput!) {
  configureContactPolicy(input: $input) {
    __typename
    ... on ContactPolicy { decisionPoint channel leverChannels { lever channel } limits { maxContacts periodDays channel }
                           suppressAfterRejections rejectionWindowDays suppressionDays }
    ... on InvalidInput { field message }
  }
}
"""
DECIDE = """
mutation($input: DecideInput!) {
  decide(input: $input) {
    __typename
    ... on Decision { id lever { key } }
    ... on ContactPolicyBlocked { rule nextAllowedAt message }
  }
}
"""
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OFFERS = ("DISCOUNT_10", "FREE_SHIPPING", "PERSONAL_CALL")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(services: Any) -> Clock:
    found = Clock(START)
    services.offers.decisions.clock = found
    services.offers.outcomes.clock = found
    return found


async def _decide(services: Any, customer: str = "c-1", **fields: Any) -> Any:
    request = DecideRequest("RETENTION", customer, context={"channel": "web"}, candidates=fields.pop("candidates", OFFERS), **fields)
    try:
        return await services.offers.decisions.decide(request)
    except ContactPolicyBlocked as exc:
        return exc


async def test_configure_contact_policy_names_the_bad_field(gql, configure) -> None:
    await configure()
    cases = [
        ({"channel": "e-mail"}, "channel"),
        ({"limits": [{"maxContacts": -1, "periodDays": 7}]}, "limits.0.maxContacts"),
        ({"limits": [{"maxContacts": 1, "periodDays": 0}]}, "limits.0.periodDays"),
        ({"limits": [{"maxContacts": 1, "periodDays": 7, "channel": "sms"}]}, "limits.0.channel"),
        ({"leverChannels": [{"lever": "PERSONAL_CALL", "channel": "ph one"}]}, "leverChannels.PERSONAL_CALL"),
        ({"decisionPoint": "NOPE"}, "decisionPoint"),
        ({"decisionPoint": "RETENTION", "suppressAfterRejections": 2, "rejectionWindowDays": 30, "suppressionDays": 14}, "suppressAfterRejections"),
        ({"suppressAfterRejections": 2}, "suppressAfterRejections"),
        ({"suppressAfterRejections": 2, "rejectionWindowDays": 30, "suppressionDays": 0}, "suppressionDays"),
    ]
    for change, field in cases:
        found = (await gql(POLICY, {"input": change}))["configureContactPolicy"]
        assert found["__typename"] == "InvalidInput" and found["field"] == field, (change, found)
    assert (await gql("{ contactPolicies { decisionPoint } }"))["contactPolicies"] == []
    made = (await gql(POLICY, {"input": {"decisionPoint": "RETENTION", "channel": "EMAIL",
                                         "leverChannels": [{"lever": "PERSONAL_CALL", "channel": "PHONE"}],
                                         "limits": [{"maxContacts": 1, "periodDays": 7}]}}))["configureContactPolicy"]
    assert made == {"__typename": "ContactPolicy", "decisionPoint": "RETENTION", "channel": "EMAIL",
                    "leverChannels": [{"lever": "PERSONAL_CALL", "channel": "PHONE"}],
                    "limits": [{"maxContacts": 1, "periodDays": 7, "channel": None}],
                    "suppressAfterRejections": None, "rejectionWindowDays": None, "suppressionDays": None}


async def test_one_offer_per_seven_days_at_a_decision_point_blocks_until_the_first_leaves_the_window(
    gql, configure, make_customer, services, clock
) -> None:
    await make_customer(external_id="c-1")
    await configure()
    await services.offers.contacts.configure(ContactPolicy("RETENTION", limits=(ContactLimit(1, 7),)))
    first = await _decide(services)
    assert first.lever in OFFERS
    blocked = (await gql(DECIDE, {"input": {"decisionPoint": "RETENTION", "externalId": "c-1", "context": {"channel": "web"}}}))["decide"]
    assert blocked["__typename"] == "ContactPolicyBlocked"
    assert blocked["rule"] == "RETENTION: at most 1 in 7 days on any channel"
    assert blocked["nextAllowedAt"] == (START + timedelta(days=7)).isoformat()
    clock.now = START + timedelta(days=7) - timedelta(seconds=1)
    assert isinstance(await _decide(services), ContactPolicyBlocked)
    clock.now = START + timedelta(days=7, seconds=1)
    assert (await _decide(services)).lever in OFFERS


async def test_only_activated_decisions_count_as_contacts(configure, make_customer, services, clock) -> None:
    await make_customer(external_id="c-1")
    await configure()
    await services.offers.contacts.configure(ContactPolicy("RETENTION", limits=(ContactLimit(1, 7),)))
    deferred = [await _decide(services, activate=False) for _ in range(3)]
    assert all(d.activated_at is None for d in deferred)
    clock.now = START + timedelta(hours=1)
    await services.offers.decisions.activate(deferred[0].id)
    clock.now = START + timedelta(hours=2)
    found = await _decide(services)
    assert isinstance(found, ContactPolicyBlocked)
    assert found.next_allowed_at == START + timedelta(days=7, hours=1)


async def test_channels_block_only_their_levers_and_the_global_limit_counts_every_point(
    configure, make_customer, services, clock
) -> None:
    await make_customer(external_id="c-1")
    await configure()
    await configure("CROSS_SELL")
    await services.offers.contacts.configure(ContactPolicy(
        "RETENTION", channel="EMAIL", lever_channels={"PERSONAL_CALL": "PHONE"},
        limits=(ContactLimit(1, 7, channel="EMAIL"),),
    ))
    await services.offers.contacts.configure(ContactPolicy(None, limits=(ContactLimit(3, 30),)))
    email = await _decide(services, candidates=("DISCOUNT_10",))
    assert email.lever == "DISCOUNT_10"
    # EMAIL is spent for 7 days: a choice between an EMAIL and a PHONE lever always lands on PHONE
    clock.now = START + timedelta(days=1)
    phone = await _decide(services, candidates=("DISCOUNT_10", "PERSONAL_CALL"))
    assert phone.lever == "PERSONAL_CALL"
    only_email = await _decide(services, candidates=("FREE_SHIPPING",))
    assert isinstance(only_email, ContactPolicyBlocked) and "on EMAIL" in only_email.rule
    # the third contact in 30 days comes from another decision point; then the global limit blocks everything
    other = await services.offers.decisions.decide(DecideRequest("CROSS_SELL", "c-1", context={"channel": "web"}, candidates=("FREE_SHIPPING",)))
    assert other.lever == "FREE_SHIPPING"
    clock.now = START + timedelta(days=10)
    found = await _decide(services)
    assert isinstance(found, ContactPolicyBlocked) and found.rule.startswith("global: at most 3 in 30 days")
    assert found.next_allowed_at == START + timedelta(days=30)


async def test_rejections_suppress_the_customer_for_the_configured_days(configure, make_customer, services, clock) -> None:
    await make_customer(external_id="c-1")
    await configure()
    await services.offers.contacts.configure(
        ContactPolicy(None, rejections=2, rejection_window_days=30, suppression_days=14)
    )
    for day in (0, 3):
        clock.now = START + timedelta(days=day)
        decision = await _decide(services)
        clock.now += timedelta(hours=1)
        await services.offers.outcomes.record(OutcomeReport(decision.id, accepted=False))
    clock.now = START + timedelta(days=4)
    found = await _decide(services)
    assert isinstance(found, ContactPolicyBlocked) and "2 rejections in 30 days" in found.rule
    assert found.next_allowed_at == START + timedelta(days=3 + 14, hours=1)
    clock.now = START + timedelta(days=17, hours=2)
    assert not isinstance(await _decide(services), ContactPolicyBlocked)


async def test_concurrent_decides_for_one_customer_pass_a_one_per_week_limit_once(configure, make_customer, services, clock) -> None:
    await make_customer(external_id="c-1")
    await configure()
    await services.offers.contacts.configure(ContactPolicy("RETENTION", limits=(ContactLimit(1, 7),)))
    results = await asyncio.gather(*(_decide(services) for _ in range(12)))
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"Decision": 1, "ContactPolicyBlocked": 11}


async def test_contact_history_lists_activated_decisions_with_their_channel(gql, configure, make_customer, services, clock) -> None:
    await make_customer(external_id="c-1")
    await configure()
    await services.offers.contacts.configure(ContactPolicy("RETENTION", channel="SMS", lever_channels={"PERSONAL_CALL": "PHONE"}))
    shown = await _decide(services, candidates=("PERSONAL_CALL",))
    clock.now += timedelta(minutes=5)
    await _decide(services, candidates=("DISCOUNT_10",), activate=False)
    clock.now += timedelta(minutes=5)
    later = await _decide(services, candidates=("DISCOUNT_10",))
    view = await gql('{ customerByExternalId(externalId: "c-1") { contactHistory { channel activatedAt decision { id lever { key } } }'
                     ' decisions { id activatedAt } } }')
    history = view["customerByExternalId"]["contactHistory"]
    assert [(h["channel"], h["decision"]["id"]) for h in history] == [("SMS", str(later.id)), ("PHONE", str(shown.id))]
    assert sum(d["activatedAt"] is None for d in view["customerByExternalId"]["decisions"]) == 1
    queried = await gql('{ contactHistory(externalId: "c-1", first: 1) { channel decision { lever { key } } } }')
    assert queried["contactHistory"] == [{"channel": "SMS", "decision": {"lever": {"key": "DISCOUNT_10"}}}]


async def test_deciding_without_policies_or_budgets_sends_no_guard_statement(configure, make_customer, services, statements) -> None:
    await make_customer(external_id="c-1")
    await configure()
    services.offers.budgets.ttl = services.offers.contacts.ttl = 3600.0  # a slow machine must not expire them mid-test
    await _decide(services)  # warms the caches
    statements.clear()
    decided = await _decide(services)
    sent = " ".join(statements).lower()
    # The capture saw the call's statements (on SQLite the decision insert itself goes straight to
    # the driver, past SQLAlchemy's events), and the decision was logged.
    assert "from customers" in sent
    assert (await services.offers.decisions.get(decided.id)).id == decided.id
    assert not any(word in sent for word in ("budget", "contact_policies", "advisory", "outcomes"))
