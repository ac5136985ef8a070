"""The bulk event statements: newest events per customer, batch insert with idempotency, id lookups."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from db.repositories import customers as customer_repo
from db.repositories import events as repo
from services.container import Services
from services.domain import CustomerDraft, EventDraft

START = datetime(2026, 1, 1, tzinfo=UTC)


async def _portfolio(services: Services, customers: int, seed: int) -> None:
    rng = random.Random(seed)
    await services.customers.upsert_many([CustomerDraft(external_id=f"e{i}") for i in range(customers)])
    drafts = []
    for i in range(customers):
        for _ in range(rng.randrange(0, 9)):
            # Whole hours over a few days: many events of a customer share an instant (ties by id).
            at = START + timedelta(hours=rng.randrange(0, 6))
            drafts.append(EventDraft(external_id=f"e{i}", type="PURCHASE", occurred_at=at, amount=1.0))
    rng.shuffle(drafts)
    assert (await services.events.record_many(drafts)).accepted == len(drafts)


async def _newest_by_hand(services: Services, ids: list[int], n: int) -> list[tuple[int, int]]:
    expected = []
    async with services.sessions() as session:
        for cid in sorted(ids):
            rows = await repo.timeline_page(session, cid, None, 1_000)
            expected += [(cid, row.id) for row in rows[:n]]
    return expected


async def test_latest_for_returns_each_customers_n_newest_events_with_ties_broken_by_id(services: Services) -> None:
    await _portfolio(services, 130, seed=4)
    async with services.sessions() as session:
        ids = list((await customer_repo.ids_by_external_ids(session, [f"e{i}" for i in range(130)])).values())
        for chosen, n in ((ids[:7], 3), (ids[:50], 5), (ids, 6), (ids[:1], 1)):  # 130 > LATEST_UNION_MAX on SQLite
            rows = await repo.latest_for(session, chosen + chosen[:2], n)  # repeats are harmless
            assert [(row.customer_id, row.id) for row in rows] == await _newest_by_hand(services, chosen, n)
            assert all(row.occurred_at.tzinfo is not None and row.payload == {} for row in rows)
        assert await repo.latest_for(session, [], 5) == []


async def test_insert_logged_skips_stored_keys_and_returns_the_new_events_in_id_order(services: Services) -> None:
    await services.customers.upsert_many([CustomerDraft(external_id="k1")])
    async with services.sessions() as session:
        cid = (await customer_repo.ids_by_external_ids(session, ["k1"]))["k1"]
    now = datetime.now(UTC)

    def row(key: str | None, **extra: object) -> dict[str, object]:
        return {"customer_id": cid, "type": "PURCHASE", "occurred_at": START, "recorded_at": now, "amount": 12.5,
                "currency": "EUR", "idempotency_key": key, **extra}

    async with services.sessions.begin() as session:
        first = await repo.insert_logged(session, [row("a"), row(None, payload={"x": 1}), row("b", amount=None)])
    assert [r.amount for r in first] == [12.5, 12.5, None]
    assert [r.id for r in first] == sorted(r.id for r in first)
    async with services.sessions.begin() as session:
        again = await repo.insert_logged(session, [row("a"), row("c", type="SURVEY", score=7, amount=None), row("b")])
    assert [(r.type, r.score) for r in again] == [("SURVEY", 7)]
    assert again[0].id > max(r.id for r in first)
    async with services.sessions() as session:
        stored = await repo.timeline_page(session, cid, None, 10)
    assert sorted(r.idempotency_key or "" for r in stored) == ["", "a", "b", "c"]
    assert {r.idempotency_key: r.payload for r in stored}[None] == {"x": 1}
    assert {r.idempotency_key: r.occurred_at for r in stored}["a"] == START


async def test_ids_by_external_ids_finds_known_ids_among_unknown_ones(services: Services) -> None:
    await services.customers.upsert_many([CustomerDraft(external_id=f"x{i}") for i in range(30)])
    async with services.sessions() as session:
        found = await customer_repo.ids_by_external_ids(session, [f"x{i}" for i in range(0, 40, 2)])
    assert sorted(found) == sorted(f"x{i}" for i in range(0, 30, 2))
    assert len(set(found.values())) == 15


async def test_a_batch_longer_than_one_insert_statement_keeps_its_order_and_skips_stored_keys(services: Services) -> None:
    await services.customers.upsert_many([CustomerDraft(external_id=f"m{i}") for i in range(7)])
    async with services.sessions() as session:
        ids = await customer_repo.ids_by_external_ids(session, [f"m{i}" for i in range(7)])
    now = datetime.now(UTC)
    size = repo.SQLITE_ROWS_PER_INSERT * 2 + 37  # three statements on SQLite

    def row(i: int) -> dict[str, object]:
        return {"customer_id": ids[f"m{i % 7}"], "type": "PURCHASE", "occurred_at": START + timedelta(minutes=i),
                "recorded_at": now, "amount": float(i), "idempotency_key": f"long-{i}" if i % 3 else None}

    stored = [row(i) for i in range(0, size, 2)]
    async with services.sessions.begin() as session:
        first = await repo.insert_logged(session, stored)
    async with services.sessions.begin() as session:
        second = await repo.insert_logged(session, [row(i) for i in range(size)])
    assert [r.amount for r in first] == [float(i) for i in range(0, size, 2)]
    # Every odd row is new, and so is every even row without a key (i % 3 == 0).
    assert [r.amount for r in second] == [float(i) for i in range(size) if i % 2 or i % 3 == 0]
    assert [r.id for r in second] == sorted({r.id for r in second}) and second[0].id > first[-1].id
    assert all(r.customer_id == ids[f"m{int(r.amount) % 7}"] for r in second)
    async with services.sessions() as session:
        read_back = await repo.logged(session, [r.id for r in second])
    assert [(r.id, r.amount, r.customer_id) for r in read_back] == [(r.id, r.amount, r.customer_id) for r in second]


async def test_ids_by_external_ids_matches_keys_with_quotes_and_non_ascii_text(services: Services) -> None:
    names = ['a"b', "c'd", "ñandú-ü", "x\\y", "[1]", "{}", "  spaced  "]
    await services.customers.upsert_many([CustomerDraft(external_id=name) for name in names])
    async with services.sessions() as session:
        found = await customer_repo.ids_by_external_ids(session, [*names, "missing", names[0]])
        assert await customer_repo.ids_by_external_ids(session, []) == {}
    assert sorted(found) == sorted(names) and len(set(found.values())) == len(names)
