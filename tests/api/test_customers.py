"""Customer upsert, the customer view and keyset-paginated lists over GraphQL."""

from __future__ import annotations

from typing import Any

UPSERT = """
mutation($input: [CustomerInput!]!) {
  upsertCustomers(input: $input) { accepted created updated errors { index field message } }
}"""

VIEW = """
query($ext: String!) {
  customerByExternalId(externalId: $ext) {
    id externalId name email phone region attributes acquisitionChannel stage
    referrer { externalId }
    referrals { externalId }
    segments { key name }
    stageHistory { fromStage toStage rule }
  }
}"""


async def upsert(gql: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    return (await gql(UPSERT, {"input": items}))["upsertCustomers"]


async def test_upsert_creates_then_updates_only_the_fields_sent(gql: Any) -> None:
    first = await upsert(gql, [{"externalId": "a1", "name": "Ana", "email": "ana@x.es", "region": "Madrid",
                               "attributes": {"age": 41, "vip": True}, "acquisitionChannel": "REFERRAL"}])
    assert first == {"accepted": 1, "created": 1, "updated": 0, "errors": []}
    second = await upsert(gql, [{"externalId": "a1", "phone": "+34 600 000 000"}])
    assert second == {"accepted": 1, "created": 0, "updated": 1, "errors": []}
    view = (await gql(VIEW, {"ext": "a1"}))["customerByExternalId"]
    assert view["name"] == "Ana" and view["region"] == "Madrid"
    assert view["phone"] == "+34 600 000 000"
    assert view["attributes"] == {"age": 41, "vip": True}
    assert view["acquisitionChannel"] == "REFERRAL"
    assert view["stage"] == "ACQUISITION"  # an email on file: the prospect gave contact data


async def test_contact_data_moves_a_prospect_to_acquisition(gql: Any) -> None:
    await upsert(gql, [{"externalId": "anon", "name": "Visitante"}])
    assert (await gql(VIEW, {"ext": "anon"}))["customerByExternalId"]["stage"] == "AWARENESS"
    await upsert(gql, [{"externalId": "anon", "phone": "+34 600 111 222"}])
    view = (await gql(VIEW, {"ext": "anon"}))["customerByExternalId"]
    assert view["stage"] == "ACQUISITION"
    assert view["stageHistory"][0]["toStage"] == "ACQUISITION" and view["stageHistory"][0]["rule"] != "operator"


async def test_referrals_resolve_within_one_batch_and_show_both_ways(gql: Any) -> None:
    result = await upsert(gql, [
        {"externalId": "friend", "referredByExternalId": "host"},
        {"externalId": "host", "name": "Host"},
    ])
    assert result["errors"] == [] and result["created"] == 2
    friend = (await gql(VIEW, {"ext": "friend"}))["customerByExternalId"]
    host = (await gql(VIEW, {"ext": "host"}))["customerByExternalId"]
    assert friend["referrer"] == {"externalId": "host"}
    assert host["referrals"] == [{"externalId": "friend"}]


async def test_bulk_upsert_writes_valid_items_and_reports_each_bad_one_by_index(gql: Any) -> None:
    result = await upsert(gql, [
        {"externalId": "ok-1"},
        {"externalId": "bad-attrs", "attributes": [1, 2]},
        {"externalId": "bad-nested", "attributes": {"prefs": {"a": 1}}},
        {"externalId": "bad-mail", "email": "not-an-email"},
        {"externalId": "ghost-ref", "referredByExternalId": "nobody"},
        {"externalId": "ok-2"},
        {"externalId": "ok-1"},
    ])
    assert result["accepted"] == 2
    assert [(e["index"], e["field"]) for e in result["errors"]] == [
        (1, "attributes"), (2, "attributes.prefs"), (3, "email"), (4, "referredByExternalId"), (6, "externalId"),
    ]
    assert "JSON object" in result["errors"][0]["message"]
    for rejected in ("bad-attrs", "bad-nested", "bad-mail", "ghost-ref"):
        assert (await gql(VIEW, {"ext": rejected}))["customerByExternalId"] is None
    assert (await gql(VIEW, {"ext": "ok-2"}))["customerByExternalId"]["externalId"] == "ok-2"


async def test_oversized_batch_is_refused_whole_and_writes_nothing(gql: Any) -> None:
    items = [{"externalId": f"x{i}"} for i in range(10_001)]
    result = await upsert(gql, items)
    assert result["accepted"] == 0
    assert result["errors"] == [{"index": None, "field": "input", "message": "at most 10000 items per call, got 10001"}]
    total = await gql("{ customers(first: 1) { totalCount } }")
    assert total["customers"]["totalCount"] == 0


async def test_unknown_enum_value_is_a_clear_error_naming_the_field(gql: Any) -> None:
    result = await gql(UPSERT, {"input": [{"externalId": "e", "acquisitionChannel": "TELEPATHY"}]}, expect_errors=True)
    message = result.errors[0].message
    assert "TELEPATHY" in message and "acquisitionChannel" in message
    assert (await gql(VIEW, {"ext": "e"}))["customerByExternalId"] is None


async def test_customer_by_internal_id_and_unknown_ids(gql: Any, make_customer: Any) -> None:
    cid = await make_customer(external_id="k1", name="Kai")
    found = await gql("query($id: ID!) { customer(id: $id) { externalId name } }", {"id": str(cid)})
    assert found["customer"] == {"externalId": "k1", "name": "Kai"}
    for missing in (str(cid + 1000), "not-a-number"):
        assert (await gql("query($id: ID!) { customer(id: $id) { id } }", {"id": missing}))["customer"] is None


LIST = """
query($first: Int!, $after: String, $filter: CustomerFilter, $order: CustomerOrder!) {
  customers(first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount
    edges { cursor node { externalId } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def walk(gql: Any, first: int, filter_: dict[str, Any] | None = None, order: str = "CREATED_AT_DESC") -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(LIST, {"first": first, "after": after, "filter": filter_, "order": order}))["customers"]
        seen += [edge["node"]["externalId"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_keyset_pages_visit_every_customer_once_in_every_order(gql: Any) -> None:
    await upsert(gql, [{"externalId": f"p{i:02d}"} for i in range(23)])
    expected = sorted(f"p{i:02d}" for i in range(23))
    for order in ("CREATED_AT_DESC", "CREATED_AT_ASC", "ID_ASC", "ID_DESC"):
        seen = await walk(gql, 5, order=order)
        assert sorted(seen) == expected and len(seen) == 23, order
    assert await walk(gql, 5, order="ID_ASC") == expected
    assert await walk(gql, 5, order="ID_DESC") == expected[::-1]


async def test_filters_by_stage_channel_segment_search_and_created_range(gql: Any) -> None:
    await upsert(gql, [
        {"externalId": "s1", "name": "Lucía Gómez", "email": "lucia@correo.es", "acquisitionChannel": "WORD_OF_MOUTH"},
        {"externalId": "s2", "name": "Mateo Ruiz", "acquisitionChannel": "REFERRAL"},
        {"externalId": "s3", "name": "Sofía Díaz", "acquisitionChannel": "REFERRAL"},
    ])
    await gql('mutation { setStage(input: {externalId: "s2", stage: GROWTH}) { __typename } }')
    await gql('mutation { upsertSegment(input: {key: "vip", name: "VIP"}) { __typename } }')
    await gql('mutation { addToSegment(input: {segmentKey: "vip", externalIds: ["s3"]}) { __typename } }')
    assert await walk(gql, 10, {"stage": "GROWTH"}) == ["s2"]
    assert sorted(await walk(gql, 10, {"acquisitionChannel": "REFERRAL"})) == ["s2", "s3"]
    assert await walk(gql, 10, {"segmentKey": "vip"}) == ["s3"]
    assert await walk(gql, 10, {"search": "LUCIA@"}) == ["s1"]
    assert await walk(gql, 10, {"search": "ruiz"}) == ["s2"]
    assert await walk(gql, 10, {"createdFrom": "2000-01-01T00:00:00Z", "createdTo": "2000-01-02T00:00:00Z"}) == []
    page = (await gql(LIST, {"first": 1, "after": None, "filter": {"acquisitionChannel": "REFERRAL"}, "order": "ID_ASC"}))
    assert page["customers"]["totalCount"] == 2


async def test_bad_cursor_and_page_size_are_errors_naming_the_argument(gql: Any) -> None:
    bad = await gql(LIST, {"first": 5, "after": "garbage!", "filter": None, "order": "ID_ASC"}, expect_errors=True)
    assert "after" in bad.errors[0].message or "cursor" in bad.errors[0].message
    big = await gql(LIST, {"first": 100_000, "after": None, "filter": None, "order": "ID_ASC"}, expect_errors=True)
    assert "first" in big.errors[0].message


async def test_delete_customer_erases_pii_and_keeps_aggregates(gql: Any) -> None:
    await upsert(gql, [{"externalId": "gone", "name": "Eva", "email": "eva@x.es", "phone": "1", "attributes": {"a": 1}}])
    await gql("""mutation { recordEvents(input: [{externalId: "gone", type: PURCHASE, occurredAt: "2025-01-01T10:00:00Z",
               amount: 30, currency: "EUR", payload: {note: "call Eva"}}]) { accepted } }""")
    erased = await gql('mutation { deleteCustomer(externalId: "gone") { __typename ... on CustomerErased { id erasedAt } } }')
    result = erased["deleteCustomer"]
    assert result["__typename"] == "CustomerErased"
    assert (await gql(VIEW, {"ext": "gone"}))["customerByExternalId"] is None
    view = await gql("query($id: ID!) { customer(id: $id) { externalId name email phone attributes events { edges { node { amount payload } } } } }",
                     {"id": result["id"]})
    customer = view["customer"]
    assert customer["name"] is None and customer["email"] is None and customer["phone"] is None
    assert customer["attributes"] == {} and customer["externalId"].startswith("erased-")
    assert customer["events"]["edges"] == [{"node": {"amount": 30.0, "payload": {}}}]
    # The anonymised customer still counts in the aggregates.
    stages = {s["stage"]: s["count"] for s in (await gql("{ stages { stage count } }"))["stages"]}
    assert sum(stages.values()) == 1
    again = await gql('mutation { deleteCustomer(externalId: "gone") { __typename } }')
    assert again["deleteCustomer"]["__typename"] == "CustomerNotFound"
