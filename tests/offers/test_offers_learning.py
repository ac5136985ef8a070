"""The model registry: tailing the outcome log, snapshots, restarts, lever retirement, versions."""

from __future__ import annotations

import asyncio

import numpy as np
from sqlalchemy import select

from db.models import Decision, Outcome
from engine import FeatureEncoder, OutcomeRecord, rebuild
from engine.policies import _ridge_posteriors
from services.container import Services
from services.offers.registry import ModelRegistry, template_model
from services.offers.values import BatchRequest, DecideRequest, OutcomeReport

LEVERS = ("DISCOUNT_10", "FREE_SHIPPING", "PERSONAL_CALL", "NO_ACTION")


async def serve_and_answer(services: Services, customers: int, rounds: int, seed: int = 0) -> None:
    """Decide for every customer ``rounds`` times; price-sensitive customers accept DISCOUNT_10."""
    rng = np.random.default_rng(seed)
    ids = tuple(f"c-{i}" for i in range(customers))
    for r in range(rounds):
        batch = await services.offers.decisions.decide_batch(BatchRequest("RETENTION", ids, context={"channel": "web"}))
        reports = []
        for d in batch.decisions:
            sensitive = d.inputs["attributes.price_sensitive"]
            p = 0.8 if (sensitive and d.lever == "DISCOUNT_10") else 0.1
            reports.append(OutcomeReport(d.id, bool(rng.random() < p), 20.0))
        result = await services.offers.outcomes.record_many(reports)
        assert not result.errors
        await services.offers.sync()


async def make_customers(make_customer, n: int) -> None:
    for i in range(n):
        await make_customer(external_id=f"c-{i}", attributes={"price_sensitive": i % 2 == 0})


def parameters(model) -> list[tuple[np.ndarray, np.ndarray]]:
    return _ridge_posteriors(model.policy._mab, model.levers)


def assert_same_parameters(a, b) -> None:
    assert a.levers == b.levers and a.outcomes_applied == b.outcomes_applied
    for (beta_a, inv_a), (beta_b, inv_b) in zip(parameters(a), parameters(b)):
        np.testing.assert_allclose(beta_a, beta_b, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(inv_a, inv_b, rtol=1e-9, atol=1e-12)


async def log_records(services: Services, point_id: int) -> list[OutcomeRecord]:
    async with services.sessions() as session:
        rows = (await session.execute(
            select(Outcome.id, Decision.lever_key, Outcome.reward, Decision.features)
            .join(Decision, Decision.id == Outcome.decision_id)
            .where(Outcome.decision_point_id == point_id).order_by(Outcome.id)
        )).all()
    return [OutcomeRecord(r[0], r[1], r[2], tuple(r[3])) for r in rows]


async def test_learning_moves_expected_rewards_towards_what_customers_accept(services, configure, make_customer) -> None:
    await make_customers(make_customer, 40)
    point = await configure()
    await serve_and_answer(services, 40, rounds=6)
    model = services.offers.registry.loaded(point.id).learner.model
    encoder: FeatureEncoder = model.encoder
    sensitive = encoder.encode({"attributes.price_sensitive": True, "context.channel": "web"})[None, :]
    estimates = dict(zip(model.levers, model.policy.point_estimates(sensitive)[0]))
    assert max(estimates, key=estimates.get) == "DISCOUNT_10"
    assert model.outcomes_applied == 240
    later = await services.offers.decisions.decide(DecideRequest("RETENTION", "c-0", context={"channel": "web"}))
    assert later.model_version == 240


async def test_rebuild_from_the_log_equals_the_incremental_model(services, configure, make_customer) -> None:
    await make_customers(make_customer, 30)
    point = await configure()
    await serve_and_answer(services, 30, rounds=4)
    incremental = services.offers.registry.loaded(point.id).learner.model
    rebuilt = rebuild(template_model(point), await log_records(services, point.id))
    assert_same_parameters(incremental, rebuilt)


async def test_snapshot_and_replay_on_restart_equals_replay_from_the_log(services, configure, make_customer) -> None:
    await make_customers(make_customer, 30)
    point = await configure()
    await serve_and_answer(services, 30, rounds=2)
    assert await services.offers.registry.snapshot(point.id)
    await serve_and_answer(services, 30, rounds=2, seed=1)  # after the snapshot: replayed on restart
    restarted = ModelRegistry(services.sessions)
    await restarted.refresh()
    from_snapshot = restarted.loaded(point.id).learner
    assert from_snapshot.outcomes_applied == 120
    assert from_snapshot.last_outcome_id == services.offers.registry.loaded(point.id).learner.last_outcome_id
    from_log = rebuild(template_model(point), await log_records(services, point.id))
    assert_same_parameters(from_snapshot.model, from_log)


async def test_a_retired_lever_comes_back_with_its_statistics(services, configure, make_customer) -> None:
    await make_customers(make_customer, 30)
    point = await configure()
    await serve_and_answer(services, 30, rounds=3)
    before = dict(zip(point.known_levers, parameters(services.offers.registry.loaded(point.id).learner.model)))
    retired = await configure(levers=("FREE_SHIPPING", "PERSONAL_CALL", "NO_ACTION"))
    assert retired.version == point.version
    await services.offers.sync()
    for _ in range(5):
        d = await services.offers.decisions.decide(DecideRequest("RETENTION", "c-0", context={"channel": "web"}))
        assert d.lever != "DISCOUNT_10"
    back = await configure()
    await services.offers.sync()
    model = services.offers.registry.loaded(back.id).learner.model
    assert "DISCOUNT_10" in model.active_levers
    beta, a_inv = dict(zip(model.levers, parameters(model)))["DISCOUNT_10"]
    np.testing.assert_array_equal(beta, before["DISCOUNT_10"][0])
    np.testing.assert_array_equal(a_inv, before["DISCOUNT_10"][1])


async def test_changing_features_starts_a_new_model_version(services, configure, make_customer) -> None:
    await make_customers(make_customer, 20)
    point = await configure()
    await serve_and_answer(services, 20, rounds=2)
    changed = await configure(features=("attributes.price_sensitive",))
    assert changed.version == point.version + 1
    await services.offers.sync()
    assert services.offers.registry.loaded(point.id).learner.outcomes_applied == 0
    d = await services.offers.decisions.decide(DecideRequest("RETENTION", "c-1"))
    assert d.config_version == changed.version and d.model_version == 0


async def test_snapshots_queue_behind_the_process_write_gate(services, configure, make_customer, database_url) -> None:
    """On SQLite a snapshot waits for the write turn like every other write of the process; past
    it, its lock sent a queued decide or outcome commit into SQLite's sleeping busy handler."""
    await make_customers(make_customer, 10)
    point = await configure()
    await serve_and_answer(services, 10, rounds=1)
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold_the_write_turn() -> None:
        async with services.offers.decisions.gate.begin():
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_write_turn())
    await holding.wait()
    saving = asyncio.create_task(services.offers.registry.snapshot(point.id))
    await asyncio.sleep(0.3)
    # PostgreSQL has no gate: the snapshot is written at once.
    assert saving.done() is (not database_url.startswith("sqlite"))
    release.set()
    await holder
    assert await saving
