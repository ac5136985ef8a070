"""recordEvents: per-item validation, idempotency and the paginated timeline."""

from __future__ import annotations

from typing import Any

RECORD = """
mutation($input: [EventInput!]!) {
  recordEvents(input: $input) { accepted duplicates errors { index field message } }
}"""

TIMELINE = """
query($ext: String!, $first: Int!, $after: String) {
  customerByExternalId(externalId: $ext) {
    events(first: $first, after: $after) {
      edges { cursor node { type occurredAt amount currency category score channel direction reason payload } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


def purchase(ext: str, day: int, amount: float = 10.0, **extra: Any) -> dict[str, Any]:
    return {"externalId": ext, "type": "PURCHASE", "occurredAt": f"2025-03-{day:02d}T12:00:00Z",
            "amount": amount, "currency": "EUR", **extra}


async def test_every_event_type_is_stored_with_its_fields(gql: Any, make_customer: Any) -> None:
    await make_customer(external_id="c")
    events = [
        purchase("c", 1, 99.5, category="hogar"),
        {"externalId": "c", "type": "COMPLAINT", "occurredAt": "2025-03-02T12:00:00Z", "channel": "PHONE", "reason": "late"},
        {"externalId": "c", "type": "SURVEY", "occurredAt": "2025-03-03T12:00:00Z", "score": 3},
        {"externalId": "c", "type": "CONTACT", "occurredAt": "2025-03-04T12:00:00Z", "channel": "EMAIL", "direction": "OUTBOUND"},
        {"externalId": "c", "type": "SIGNUP", "occurredAt": "2025-02-01T12:00:00Z"},
        {"externalId": "c", "type": "TRIAL_STARTED", "occurredAt": "2025-02-02T12:00:00Z"},
        {"externalId": "c", "type": "SUBSCRIPTION_CANCELLED", "occurredAt": "2025-03-05T12:00:00Z", "reason": "PRICE"},
        {"externalId": "c", "type": "CUSTOM", "occurredAt": "2025-03-06T12:00:00Z", "payload": {"kind": "webinar"}},
    ]
    result = (await gql(RECORD, {"input": events}))["recordEvents"]
    assert result == {"accepted": 8, "duplicates": 0, "errors": []}
    timeline = (await gql(TIMELINE, {"ext": "c", "first": 20}))["customerByExternalId"]["events"]
    nodes = [e["node"] for e in timeline["edges"]]
    assert [n["type"] for n in nodes] == [
        "CUSTOM", "SUBSCRIPTION_CANCELLED", "CONTACT", "SURVEY", "COMPLAINT", "PURCHASE", "TRIAL_STARTED", "SIGNUP"
    ]
    assert nodes[5]["amount"] == 99.5 and nodes[5]["category"] == "hogar"
    assert nodes[3]["score"] == 3 and nodes[2]["direction"] == "OUTBOUND"
    assert nodes[1]["reason"] == "PRICE" and nodes[0]["payload"] == {"kind": "webinar"}


async def test_bad_events_are_reported_by_index_and_field_and_not_stored(gql: Any, make_customer: Any) -> None:
    await make_customer(external_id="c")
    result = (await gql(RECORD, {"input": [
        purchase("c", 1),
        purchase("c", 2, -5.0),
        {"externalId": "c", "type": "SURVEY", "occurredAt": "2025-03-03T12:00:00Z", "score": 11},
        purchase("nobody", 3),
        {"externalId": "c", "type": "PURCHASE", "occurredAt": "2025-03-04T12:00:00Z"},
        {"externalId": "c", "type": "SIGNUP", "occurredAt": "2025-03-04T12:00:00Z", "score": 5},
        purchase("c", 5, currency="euros"),
        {"externalId": "c", "type": "CUSTOM", "occurredAt": "2025-03-06T12:00:00Z", "payload": [1]},
        {"externalId": "c", "type": "SIGNUP", "occurredAt": "2999-01-01T00:00:00Z"},
        purchase("c", 9),
    ]}))["recordEvents"]
    assert result["accepted"] == 2
    assert [(e["index"], e["field"]) for e in result["errors"]] == [
        (1, "amount"), (2, "score"), (3, "externalId"), (4, "amount"), (5, "score"),
        (6, "currency"), (7, "payload"), (8, "occurredAt"),
    ]
    assert "0 and 10" in result["errors"][1]["message"] and ">= 0" in result["errors"][0]["message"]
    timeline = (await gql(TIMELINE, {"ext": "c", "first": 20}))["customerByExternalId"]["events"]
    assert len(timeline["edges"]) == 2


async def test_unknown_event_type_names_the_field_and_writes_nothing(gql: Any, make_customer: Any) -> None:
    await make_customer(external_id="c")
    bad = await gql(RECORD, {"input": [purchase("c", 1), {"externalId": "c", "type": "TELEGRAM", "occurredAt": "2025-03-01T00:00:00Z"}]},
                    expect_errors=True)
    assert "TELEGRAM" in bad.errors[0].message and "type" in bad.errors[0].message
    timeline = (await gql(TIMELINE, {"ext": "c", "first": 5}))["customerByExternalId"]["events"]
    assert timeline["edges"] == []


async def test_replayed_idempotency_keys_are_stored_once(gql: Any, make_customer: Any) -> None:
    await make_customer(external_id="c")
    batch = [purchase("c", 1, idempotencyKey="k1"), purchase("c", 2, idempotencyKey="k2"), purchase("c", 3)]
    first = (await gql(RECORD, {"input": batch}))["recordEvents"]
    assert first == {"accepted": 3, "duplicates": 0, "errors": []}
    replay = (await gql(RECORD, {"input": batch[:2] + [purchase("c", 4, idempotencyKey="k1")]}))["recordEvents"]
    assert replay == {"accepted": 0, "duplicates": 3, "errors": []}
    timeline = (await gql(TIMELINE, {"ext": "c", "first": 20}))["customerByExternalId"]["events"]
    assert len(timeline["edges"]) == 3


async def test_timeline_pages_newest_first_without_gaps(gql: Any, make_customer: Any) -> None:
    await make_customer(external_id="c")
    # Same timestamp twice: the id breaks the tie, so no event is skipped or repeated.
    await gql(RECORD, {"input": [purchase("c", d, float(d)) for d in range(1, 13)] + [purchase("c", 12, 99.0)]})
    amounts: list[float] = []
    after = None
    while True:
        page = (await gql(TIMELINE, {"ext": "c", "first": 4, "after": after}))["customerByExternalId"]["events"]
        amounts += [e["node"]["amount"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert amounts == [99.0, 12.0] + [float(d) for d in range(11, 0, -1)]


async def test_historical_events_may_arrive_out_of_order(gql: Any, make_customer: Any) -> None:
    await make_customer(external_id="c")
    await gql(RECORD, {"input": [purchase("c", 20)]})
    await gql(RECORD, {"input": [{**purchase("c", 1), "occurredAt": "2019-06-01T08:00:00+02:00"}]})
    timeline = (await gql(TIMELINE, {"ext": "c", "first": 5}))["customerByExternalId"]["events"]
    assert [e["node"]["occurredAt"] for e in timeline["edges"]] == ["2025-03-20T12:00:00+00:00", "2019-06-01T06:00:00+00:00"]
