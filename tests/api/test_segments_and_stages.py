"""Segments, memberships, stage counts and the operator's setStage."""

from __future__ import annotations

from typing import Any


async def test_segments_list_member_counts_and_membership_changes(gql: Any, make_customer: Any) -> None:
    for ext in ("a", "b", "c"):
        await make_customer(external_id=ext)
    created = await gql('mutation { upsertSegment(input: {key: "vip", name: "VIP", description: "top"}) { ... on Segment { key name description } } }')
    assert created["upsertSegment"] == {"key": "vip", "name": "VIP", "description": "top"}
    add = await gql('mutation { addToSegment(input: {segmentKey: "vip", externalIds: ["a", "b", "zz", "a"]}) { ... on SegmentMembershipPayload { changed errors { index field } } } }')
    assert add["addToSegment"] == {"changed": 2, "errors": [{"index": 2, "field": "externalIds"}]}
    again = await gql('mutation { addToSegment(input: {segmentKey: "vip", externalIds: ["a"]}) { ... on SegmentMembershipPayload { changed } } }')
    assert again["addToSegment"]["changed"] == 0
    segments = (await gql("{ segments { key memberCount } }"))["segments"]
    assert segments == [{"key": "vip", "memberCount": 2}]
    removed = await gql('mutation { removeFromSegment(input: {segmentKey: "vip", externalIds: ["b"]}) { ... on SegmentMembershipPayload { changed } } }')
    assert removed["removeFromSegment"]["changed"] == 1
    view = await gql('{ customerByExternalId(externalId: "a") { segments { key name } } }')
    assert view["customerByExternalId"]["segments"] == [{"key": "vip", "name": "VIP"}]
    renamed = await gql('mutation { upsertSegment(input: {key: "vip", name: "Very important"}) { ... on Segment { name } } }')
    assert renamed["upsertSegment"]["name"] == "Very important"
    assert (await gql("{ segments { memberCount } }"))["segments"] == [{"memberCount": 1}]


async def test_segment_errors_are_typed_results(gql: Any) -> None:
    missing = await gql('mutation { addToSegment(input: {segmentKey: "nope", externalIds: []}) { __typename ... on SegmentNotFound { key } } }')
    assert missing["addToSegment"] == {"__typename": "SegmentNotFound", "key": "nope"}
    bad = await gql('mutation { upsertSegment(input: {key: "has space", name: "x"}) { __typename ... on InvalidInput { field } } }')
    assert bad["upsertSegment"] == {"__typename": "InvalidInput", "field": "key"}


async def test_set_stage_moves_the_customer_records_history_and_updates_counts(gql: Any, make_customer: Any) -> None:
    await make_customer(external_id="a", email=None)
    await make_customer(external_id="b", email=None)
    moved = await gql('mutation { setStage(input: {externalId: "a", stage: RETENTION, reason: "loyalty call"}) { ... on StageSet { customer { stage } change { fromStage toStage reason rule } } } }')
    assert moved["setStage"] == {"customer": {"stage": "RETENTION"},
                                 "change": {"fromStage": "AWARENESS", "toStage": "RETENTION", "reason": "loyalty call", "rule": "operator"}}
    counts = {c["stage"]: c["count"] for c in (await gql("{ stages { stage count } }"))["stages"]}
    assert counts == {"AWARENESS": 1, "ACQUISITION": 0, "CONVERSION": 0, "GROWTH": 0, "RETENTION": 1, "CHURNED": 0, "REACTIVATED": 0}
    history = await gql('{ customerByExternalId(externalId: "a") { stageHistory { fromStage toStage } } }')
    assert history["customerByExternalId"]["stageHistory"] == [{"fromStage": "AWARENESS", "toStage": "RETENTION"}]
    missing = await gql('mutation { setStage(input: {externalId: "zz", stage: GROWTH}) { __typename ... on CustomerNotFound { externalId } } }')
    assert missing["setStage"] == {"__typename": "CustomerNotFound", "externalId": "zz"}
