"""Large event batches leave their lifecycle pass to the drainer; the result is the same as inline."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from services.container import Services
from services.domain import CustomerDraft, EventDraft
from services.events import Events
from services.lifecycle.service import Lifecycle

START = datetime.now(UTC) - timedelta(days=10)


def purchases(n_customers: int) -> list[EventDraft]:
    return [
        EventDraft(external_id=f"q{i}", type="PURCHASE", occurred_at=START + timedelta(days=d), amount=20.0)
        for i in range(n_customers) for d in range(i % 3 + 1)
    ]


def with_inline_max(services: Services, inline_max: int) -> Services:
    lifecycle = Lifecycle(services.sessions, inline_max=inline_max, clock=services.lifecycle.clock)
    events = Events(services.sessions, on_recorded=lifecycle.on_events)
    return dataclasses.replace(services, lifecycle=lifecycle, events=events)


async def stages_of(services: Services, n: int) -> list[str]:
    return [(await services.customers.get_by_external_id(f"q{i}")).stage for i in range(n)]


async def test_a_large_batch_is_queued_then_drained_to_the_same_stages_as_inline(services: Services) -> None:
    await services.customers.upsert_many([CustomerDraft(external_id=f"q{i}") for i in range(12)])
    deferred = with_inline_max(services, inline_max=5)
    result = await deferred.events.record_many(purchases(12))
    assert result.accepted == sum(i % 3 + 1 for i in range(12))
    assert await deferred.lifecycle.queued() == 12
    assert set(await stages_of(services, 12)) == {"AWARENESS"}  # nothing applied yet

    assert await deferred.lifecycle.drain_all() == 12
    assert await deferred.lifecycle.queued() == 0
    drained = await stages_of(services, 12)
    assert drained == ["CONVERSION" if i % 3 == 0 else "GROWTH" for i in range(12)]

    # The inline path (a small batch) on a twin customer set reaches the very same stages.
    await services.customers.upsert_many([CustomerDraft(external_id=f"r{i}") for i in range(12)])
    inline = with_inline_max(services, inline_max=1_000)
    twins = [dataclasses.replace(e, external_id="r" + e.external_id[1:]) for e in purchases(12)]
    await inline.events.record_many(twins)
    assert await inline.lifecycle.queued() == 0
    assert [(await services.customers.get_by_external_id(f"r{i}")).stage for i in range(12)] == drained


async def test_a_drain_round_takes_whole_batches_up_to_its_limit(services: Services) -> None:
    await services.customers.upsert_many([CustomerDraft(external_id=f"q{i}") for i in range(8)])
    deferred = with_inline_max(services, inline_max=2)
    await deferred.events.record_many([e for e in purchases(8) if e.external_id in {f"q{i}" for i in range(4)}])
    await deferred.events.record_many([e for e in purchases(8) if e.external_id in {f"q{i}" for i in range(4, 8)}])
    assert await deferred.lifecycle.queued() == 8
    assert await deferred.lifecycle.drain(limit=5) == 4  # the first batch whole; the second waits
    assert await deferred.lifecycle.queued() == 4
    await deferred.lifecycle.drain_all()
    assert await deferred.lifecycle.queued() == 0
    assert set(await stages_of(services, 8)) <= {"CONVERSION", "GROWTH"}


def test_the_server_drains_a_large_batch_within_seconds(live_server) -> None:  # type: ignore[no-untyped-def]
    import time

    import httpx

    url = f"{live_server.url}/graphql"
    customers = [{"externalId": f"s{i}"} for i in range(150)]
    httpx.post(url, json={"query": "mutation($c: [CustomerInput!]!) { upsertCustomers(input: $c) { accepted } }",
                          "variables": {"c": customers}}, timeout=30).raise_for_status()
    when = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    events = [{"externalId": f"s{i}", "type": "PURCHASE", "occurredAt": when, "amount": 10.0} for i in range(150)]
    recorded = httpx.post(url, json={"query": "mutation($e: [EventInput!]!) { recordEvents(input: $e) { accepted } }",
                                     "variables": {"e": events}}, timeout=30).json()
    assert recorded["data"]["recordEvents"]["accepted"] == 150
    query = '{ stages { stage count } }'
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        counts = {s["stage"]: s["count"] for s in httpx.post(url, json={"query": query}, timeout=30).json()["data"]["stages"]}
        if counts["CONVERSION"] == 150:
            break
        time.sleep(0.1)
    assert counts["CONVERSION"] == 150, counts


def test_the_drainer_waits_for_a_pause_in_ingestion_but_never_past_the_max_lag() -> None:
    from api.lifecycle_runtime import drain_wait

    pace = {"quiet": 0.5, "max_lag": 5.0}
    assert drain_wait(100.0, None, 99.9, busy=True, **pace) == 0.0  # nothing queued here: drain at once
    assert drain_wait(100.0, 99.0, 99.8, busy=False, **pace) == pytest.approx(0.3)  # a call just ended: wait
    assert drain_wait(100.0, 99.0, 99.0, busy=False, **pace) == 0.0  # no call for 1 s: due
    assert drain_wait(100.0, 99.0, None, busy=False, **pace) == 0.0  # queued, and no call ever ran here
    assert drain_wait(100.0, 98.0, 90.0, busy=True, **pace) == pytest.approx(0.5)  # a call is running: wait
    assert drain_wait(100.0, 95.2, 99.9, busy=True, **pace) == pytest.approx(0.2)  # the oldest is near its bound
    assert drain_wait(100.0, 95.0, 99.9, busy=True, **pace) == 0.0  # the oldest has waited 5 s: due regardless
    assert drain_wait(100.0, 99.9, 99.9, busy=True, **{**pace, "max_lag": 0.0}) == 0.0  # max lag 0: never wait


def test_a_pass_forced_during_ingestion_takes_a_small_chunk_and_a_quiet_one_the_full_chunk() -> None:
    from api.lifecycle_runtime import BUSY_DRAIN_CHUNK, drain_chunk
    from services.lifecycle.service import DRAIN_CHUNK

    assert BUSY_DRAIN_CHUNK < DRAIN_CHUNK
    assert drain_chunk(100.0, 90.0, busy=True, quiet=0.5) == BUSY_DRAIN_CHUNK  # a call is running
    assert drain_chunk(100.0, 99.8, busy=False, quiet=0.5) == BUSY_DRAIN_CHUNK  # one ended just now
    assert drain_chunk(100.0, 99.0, busy=False, quiet=0.5) == DRAIN_CHUNK  # no call for 1 s
    assert drain_chunk(100.0, None, busy=False, quiet=0.5) == DRAIN_CHUNK  # no call ever ran here


def test_the_max_lag_comes_from_the_environment_and_refuses_a_negative_value(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.lifecycle_runtime import max_lag_seconds

    monkeypatch.setenv("CICLO_LIFECYCLE_MAX_LAG_SECONDS", "1.5")
    assert max_lag_seconds() == 1.5
    monkeypatch.setenv("CICLO_LIFECYCLE_MAX_LAG_SECONDS", "-1")
    with pytest.raises(ValueError, match="must be >= 0"):
        max_lag_seconds()


async def test_queueing_marks_a_backlog_that_an_empty_queue_clears(services: Services) -> None:
    await services.customers.upsert_many([CustomerDraft(external_id=f"q{i}") for i in range(4)])
    deferred = with_inline_max(services, inline_max=2)
    assert deferred.lifecycle.backlog_since is None and deferred.events.last_done is None
    await deferred.events.record_many(purchases(4))
    first = deferred.lifecycle.backlog_since
    assert first is not None and deferred.events.last_done is not None and deferred.events.last_done >= first
    assert deferred.events.in_flight == 0
    await deferred.events.record_many([dataclasses.replace(e, amount=5.0) for e in purchases(4)])
    assert deferred.lifecycle.backlog_since == first  # the backlog is as old as its oldest batch
    assert await deferred.lifecycle.drain_all() == 4
    assert deferred.lifecycle.backlog_since is None


async def test_a_refused_call_still_counts_as_ingestion_that_ended(services: Services) -> None:
    from services.errors import InvalidInput

    too_many = [EventDraft(external_id="q0", type="SIGNUP", occurred_at=START)] * 10_001
    with pytest.raises(InvalidInput):
        await services.events.record_many(too_many)
    assert services.events.in_flight == 0 and services.events.last_done is not None
