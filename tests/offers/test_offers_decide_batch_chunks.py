"""decideBatch over several chunks, on SQLite and PostgreSQL: the overlapped reads and writes log
what deciding the chunks one after the other logs, and the rows land as the column types store them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from db.models import Decision
from db.repositories import offers as repo
from services.container import Services
from services.domain import CustomerDraft
from services.offers.decisions import CHUNK
from services.offers.budgets import BudgetDraft
from services.offers.values import BatchRequest

COUNT = 2 * CHUNK + CHUNK // 2  # three chunks, the last one short


async def _customers(services: Services, count: int = COUNT) -> list[str]:
    ids = [f"k-{i}" for i in range(count)]
    drafts = [CustomerDraft(ext, attributes={"price_sensitive": i % 3 == 0}) for i, ext in enumerate(ids)]
    for start in range(0, count, 1000):
        await services.customers.upsert_many(drafts[start : start + 1000])
    return ids


def _choices(decisions: Any) -> list[tuple[Any, ...]]:
    return [(d.customer_id, d.lever, d.propensity, d.expected_reward, d.estimates, d.candidates, d.features) for d in decisions]


async def test_a_batch_of_several_chunks_decides_as_the_chunks_one_after_the_other(configure, services) -> None:
    ids = await _customers(services)
    await configure()
    whole = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", tuple(ids), context={"channel": "web"}))
    # A second process with the same worker index draws the same random streams from the start.
    twin = Services.build(services.engine)
    parts = []
    for start in range(0, COUNT, CHUNK):
        part = await twin.offers.decisions.decide_batch(
            BatchRequest("RETENTION", tuple(ids[start : start + CHUNK]), context={"channel": "web"})
        )
        parts.extend(part.decisions)
    assert len(whole.decisions) == COUNT and not whole.errors
    assert _choices(whole.decisions) == _choices(parts)
    assert [d.customer_id for d in whole.decisions] == sorted(d.customer_id for d in whole.decisions)


async def test_a_batch_answer_equals_the_logged_rows(configure, services) -> None:
    ids = await _customers(services)
    await configure()
    result = await services.offers.decisions.decide_batch(
        BatchRequest("RETENTION", (*ids[:CHUNK], "ghost", *ids[CHUNK:]), context={"channel": "web"}, request_id="run")
    )
    assert [(e.index, e.field) for e in result.errors] == [(CHUNK, "externalIds")]
    stored = await services.offers.decisions.get(result.decisions[-1].id)
    assert stored == result.decisions[-1]
    first = await services.offers.decisions.get(result.decisions[0].id)
    assert first == result.decisions[0] and first.request_id == f"run/{ids[0]}"
    replay = await services.offers.decisions.decide_batch(
        BatchRequest("RETENTION", tuple(ids), context={"channel": "web"}, request_id="run")
    )
    assert [d.id for d in replay.decisions] == [d.id for d in result.decisions]


async def test_a_fallback_budget_over_several_chunks_grants_up_to_its_cap_in_input_order(configure, services) -> None:
    ids = await _customers(services)
    await configure()
    cap = CHUNK // 10
    await services.offers.budgets.configure(BudgetDraft("calls", "DAY", lever="PERSONAL_CALL", max_count=cap, fallback=True))
    result = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", tuple(ids), context={"channel": "web"}))
    assert len(result.decisions) == COUNT and not result.errors
    calls = [d for d in result.decisions if d.lever == "PERSONAL_CALL"]
    assert len(calls) == cap  # the cap is reached in the first chunk: the later ones fall back
    assert max(d.customer_id for d in calls) < result.decisions[CHUNK].customer_id
    # a choice made again is logged with the reduced candidate set, in every chunk
    again = [d for d in result.decisions if "PERSONAL_CALL" not in d.candidates]
    assert again and {d.customer_id for d in again} & {d.customer_id for d in result.decisions[CHUNK:]}
    [state] = await services.offers.budgets.states()
    assert state.used == cap


async def test_the_sqlite_driver_insert_stores_what_the_core_insert_stores(configure, services, make_customer) -> None:
    customer = await make_customer(external_id="row-1")
    other = await make_customer(external_id="row-2")
    await configure()
    result = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", ("row-1",), context={"channel": "web"}))
    logged = result.decisions[0]
    async with services.sessions() as session:
        row = (await session.execute(select(*repo.DECISION_ROW).where(Decision.id == logged.id))).one()
    base = {c: v for c, v in row._mapping.items() if c not in ("id", "customer_id", "request_id")}
    variants = [
        {**base, "customer_id": customer, "request_id": "a", "holdout": True, "campaign_id": None},
        {**base, "customer_id": other, "request_id": "b", "activated_at": None, "window_ends_at": None,
         "shadow_arm": "shadow", "shadow_lever": "NO_ACTION", "shadow_expected_reward": 0.25},
    ]
    async with services.sessions.begin() as session:
        fast = await repo.insert_decisions(session, [dict(v) for v in variants])
        core = await repo._insert_decisions_core(session, [{**v, "request_id": v["request_id"] + "-core"} for v in variants])
        again = await repo.insert_decisions(session, [dict(variants[0])])  # the request id is taken: skipped
        # One row skipped and one written in the same statement: the written one's id is exact.
        mixed = await repo.insert_decisions(session, [dict(variants[0]), {**variants[1], "request_id": "c"}])
    assert set(fast) == set(core) == {customer, other} and again == {}
    assert set(mixed) == {other}
    async with services.sessions() as session:
        [(owner, request_id)] = (await session.execute(
            select(Decision.customer_id, Decision.request_id).where(Decision.id == mixed[other])
        )).all()
    assert (owner, request_id) == (other, "c")
    async with services.sessions() as session:
        stored = {
            r.id: {k: v for k, v in r._mapping.items() if k not in ("id", "request_id")}
            for r in (await session.execute(select(*repo.DECISION_ROW).where(Decision.id.in_([*fast.values(), *core.values()])))).all()
        }
    for customer_id in (customer, other):
        assert stored[fast[customer_id]] == stored[core[customer_id]]
