"""The collector pause around large results: nested holds, its age limit, and over the app:
decideBatch and large bodies pause the collector until answered, and decideBatch leaves no cycles."""

from __future__ import annotations

import gc
import time

import pytest

from api.collector_pause import CollectorPause
from tests.api.serving_app import cyclic_garbage, serving_app


@pytest.fixture
def collector_on():  # type: ignore[no-untyped-def]
    gc.enable()
    yield
    gc.enable()


def test_holds_nest_and_the_last_release_turns_the_collector_back_on(collector_on: None) -> None:
    pause = CollectorPause()
    assert pause.hold() and not gc.isenabled()
    assert pause.hold()
    pause.release()
    assert not gc.isenabled() and pause.active
    pause.release()
    assert gc.isenabled() and not pause.active and pause.pauses == 1
    with pytest.raises(RuntimeError, match="without a matching hold"):
        pause.release()


def test_an_old_pause_takes_no_new_holders_and_a_foreign_disable_is_left_alone(collector_on: None) -> None:
    pause = CollectorPause(max_seconds=0.05)
    assert pause.hold()
    time.sleep(0.08)
    assert pause.hold() is False  # too old to join: it ends when its holder is done
    pause.release()
    assert gc.isenabled()
    gc.disable()  # someone else's pause (a test, a profiler): not ours to end
    try:
        assert pause.hold() is False
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_decide_batch_pauses_the_collector_until_answered_and_leaves_no_cycles(database_url: str, collector_on: None) -> None:
    with serving_app(database_url) as (app, client, post):
        post("mutation($c: [CustomerInput!]!) { upsertCustomers(input: $c) { accepted } }",
             {"c": [{"externalId": f"c-{i}"} for i in range(20)]})
        for key in ("CALL", "NONE"):
            post("mutation($k: String!) { upsertLever(input: {key: $k, name: $k}) { __typename } }", {"k": key})
        post("""mutation { configureDecisionPoint(input: {key: "RET", levers: ["CALL", "NONE"],
            features: ["valueTier"], policy: {kind: LIN_TS, seed: 3}}) { __typename } }""")
        pause: CollectorPause = app.state.collector_pause
        batch = """mutation($ids: [String!]!) { decideBatch(input: {decisionPoint: "RET", externalIds: $ids}) {
            ... on DecisionBatch { decisions { totalCount edges { node { id lever { key } } } } } } }"""
        started = pause.pauses
        answer = post(batch, {"ids": [f"c-{i}" for i in range(20)]})
        assert answer["decideBatch"]["decisions"]["totalCount"] == 20
        assert pause.pauses == started + 1 and not pause.active and gc.isenabled()
        # a single decide builds a small result: no pause
        one = 'mutation { decide(input: {decisionPoint: "RET", externalId: "c-1"}) { __typename } }'
        assert post(one)["decide"]["__typename"] == "Decision"
        assert pause.pauses == started + 1 and gc.isenabled()

        # Over a socket the context lives as long as the socket: no pause there.
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as socket:
            socket.send_json({"type": "connection_init", "payload": {}})
            assert socket.receive_json(mode="binary")["type"] == "connection_ack"
            socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": batch, "variables": {"ids": ["c-1", "c-2"]}}})
            message = socket.receive_json(mode="binary")
            assert message["type"] == "next", message
            assert message["payload"]["data"]["decideBatch"]["decisions"]["totalCount"] == 2
            assert pause.pauses == started + 1 and gc.isenabled()

        # A large body (a bulk call) pauses from the start of the request, input values included.
        bulk = {"c": [{"externalId": f"bulk-{i}", "name": f"Bulk customer number {i}"} for i in range(1500)]}
        assert post("mutation($c: [CustomerInput!]!) { upsertCustomers(input: $c) { accepted } }", bulk)["upsertCustomers"]["accepted"] == 1500
        assert pause.pauses == started + 2 and not pause.active and gc.isenabled()

        # The pause relies on a batch's objects being freed by reference counting: none is
        # left for the cyclic collector.
        def batches() -> None:
            for _ in range(3):
                post(batch, {"ids": [f"c-{i}" for i in range(20)]})

        ours = ("api", "services", "engine", "db")
        assert cyclic_garbage(batches, lambda o: type(o).__module__.split(".")[0] in ours) == []
