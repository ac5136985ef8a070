"""Nested customer fields cost a constant number of statements, and validation runs once per query."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event

from api.schema import CicloSchema
from services.container import Services
from services.domain import CustomerDraft, EventDraft
from datetime import UTC, datetime, timedelta

PAGE = """
query($first: Int!) {
  customers(first: $first, filter: {stage: GROWTH}) {
    totalCount
    edges { node {
      externalId stage
      segments { key name }
      events(first: 5) { edges { node { type amount occurredAt } } }
      referrer { externalId }
    } }
  }
}"""


async def seed(services: Services, n: int) -> None:
    drafts = [CustomerDraft(external_id=f"c{i}", referred_by_external_id=f"c{i - 1}" if i else None) for i in range(n)]
    assert not (await services.customers.upsert_many(drafts)).errors
    start = datetime(2025, 1, 1, tzinfo=UTC)
    events = [
        EventDraft(external_id=f"c{i}", type="PURCHASE", occurred_at=start + timedelta(days=d), amount=10.0 + d)
        for i in range(n) for d in range(7)
    ]
    assert not (await services.events.record_many(events)).errors
    for key in ("vip", "newsletter"):
        await services.segments.upsert(key, key.title(), None)
        await services.segments.change_members(key, [f"c{i}" for i in range(0, n, 2)], add=True)
    for i in range(n):
        await services.stages.set_stage(f"c{i}", "GROWTH", None)


async def count_statements(gql: Any, statements: list[str], first: int) -> int:
    statements.clear()
    data = await gql(PAGE, {"first": first})
    edges = data["customers"]["edges"]
    assert len(edges) == first
    assert all(len(edge["node"]["events"]["edges"]) == 5 for edge in edges)
    assert sum(bool(edge["node"]["segments"]) for edge in edges) >= first // 2 - 1
    return len(statements)


async def test_a_page_of_customers_with_nested_fields_costs_a_constant_number_of_statements(
    gql: Any, services: Services, statements: list[str]
) -> None:
    await seed(services, 60)
    small = await count_statements(gql, statements, 5)
    large = await count_statements(gql, statements, 50)
    # page + count + segments + latest events + referrers: one each, whatever the page size.
    assert small == large
    assert large <= 6, statements


VIEW = """query($e: String!, $id: ID!) {
  byExternal: customerByExternalId(externalId: $e) { externalId stage valueTier daysSinceLastPurchase segments { key }
    events(first: 3) { edges { node { amount } } } }
  byId: customer(id: $id) { externalId segments { key } events(first: 3) { edges { node { amount } } } }
  missing: customerByExternalId(externalId: "nobody") { externalId segments { key } }
}"""


async def test_the_customer_view_reads_profile_segments_and_timeline_in_one_session(
    gql: Any, services: Services, statements: list[str]
) -> None:
    await seed(services, 4)
    customer_id = (await services.customers.get_by_external_id("c2")).id
    checkouts: list[int] = []

    def checked_out(*_: Any) -> None:
        checkouts.append(1)

    event.listen(services.engine.sync_engine, "checkout", checked_out)
    try:
        statements.clear()
        data = await gql(VIEW, {"e": "c2", "id": str(customer_id)})
        sent = list(statements)
    finally:
        event.remove(services.engine.sync_engine, "checkout", checked_out)
    newest = [{"node": {"amount": 10.0 + d}} for d in (6, 5, 4)]
    standing = await services.lifecycle.standings([customer_id])
    assert standing[customer_id].purchase_count == 7 and standing[customer_id].last_purchase_at is not None
    assert data["byExternal"].pop("valueTier") == standing[customer_id].value_tier
    assert data["byExternal"].pop("daysSinceLastPurchase") is not None
    assert data["byExternal"] == {"externalId": "c2", "stage": "GROWTH", "segments": [{"key": "newsletter"}, {"key": "vip"}],
                                  "events": {"edges": newest}}
    assert data["byId"] == {"externalId": "c2", "segments": [{"key": "newsletter"}, {"key": "vip"}], "events": {"edges": newest}}
    assert data["missing"] is None
    # Each view on one connection: customer, segments, timeline (and the standing where asked);
    # the missing one stops at its lookup.
    assert len(sent) == 4 + 3 + 1, sent
    assert len(checkouts) == 3


async def test_repeated_query_does_not_pay_validation_again(gql: Any, schema: CicloSchema) -> None:
    # The schema (and its cache) is shared by the whole session: make this text unseen so far.
    query = f"query Repeat_{uuid.uuid4().hex} {{ stages {{ stage count }} segments {{ key }} }}"
    await gql(query)
    runs = schema.validation_results.runs
    for _ in range(5):
        await gql(query)
    assert schema.validation_results.runs == runs
    await gql(query + " ")
    assert schema.validation_results.runs == runs + 1


async def test_invalid_query_is_cached_with_its_errors(gql: Any, schema: CicloSchema) -> None:
    query = f"query Broken_{uuid.uuid4().hex} {{ stages {{ nope }} }}"
    first = await gql(query, expect_errors=True)
    runs = schema.validation_results.runs
    second = await gql(query, expect_errors=True)
    assert schema.validation_results.runs == runs
    assert first.errors[0].message == second.errors[0].message
    assert "nope" in second.errors[0].message
