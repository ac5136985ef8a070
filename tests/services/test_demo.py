from datetime import timedelta

import pytest
from sqlalchemy import func, select

from db import migrate
from db.models import Customer, Event, SegmentMember, StageChange
from db.session import make_engine
from services.container import Services
from services.demo import DEMO_NOW, generate_demo, load_demo_if_empty

CUSTOMERS = 2000


async def _services(path):
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await migrate.upgrade(engine)
    return Services.build(engine)


@pytest.fixture
async def demo_services(tmp_path):
    services = await _services(tmp_path / "demo.db")
    yield services
    await services.engine.dispose()


async def _first_customers(services, n=20):
    async with services.sessions() as session:
        query = select(Customer).order_by(Customer.id).limit(n)
        return [
            (c.external_id, c.name, c.email, c.attributes, c.stage, c.created_at, c.referred_by_id)
            for c in (await session.scalars(query)).all()
        ]


async def test_same_seed_gives_the_same_portfolio(tmp_path):
    first, second = await _services(tmp_path / "a.db"), await _services(tmp_path / "b.db")
    try:
        a = await generate_demo(first, customers=300, seed=3)
        b = await generate_demo(second, customers=300, seed=3)
        assert a == b
        assert await _first_customers(first) == await _first_customers(second)
    finally:
        await first.engine.dispose()
        await second.engine.dispose()


async def test_portfolio_is_believable(demo_services):
    seen: list[tuple[int, int]] = []
    summary = await generate_demo(
        demo_services, customers=CUSTOMERS, progress=lambda d, t: seen.append((d, t))
    )
    assert summary.customers == CUSTOMERS
    assert set(summary.stages) == {
        "AWARENESS",
        "ACQUISITION",
        "CONVERSION",
        "GROWTH",
        "RETENTION",
        "CHURNED",
        "REACTIVATED",
    }
    assert all(count > 0 for count in summary.stages.values())
    assert 10 <= sum(summary.events.values()) / CUSTOMERS <= 20
    assert seen[-1][0] == seen[-1][1]
    async with demo_services.sessions() as session:
        channels = dict(
            (
                await session.execute(
                    select(Customer.acquisition_channel, func.count()).group_by(
                        Customer.acquisition_channel
                    )
                )
            ).all()
        )
        assert 0.42 <= channels["WORD_OF_MOUTH"] / CUSTOMERS <= 0.52
        assert 0.33 <= channels["REFERRAL"] / CUSTOMERS <= 0.43
        assert summary.referrals == channels["REFERRAL"]
        referrals = (
            await session.execute(
                select(Customer.id, Customer.created_at, Customer.referred_by_id).where(
                    Customer.referred_by_id.is_not(None)
                )
            )
        ).all()
        created = dict((await session.execute(select(Customer.id, Customer.created_at))).all())
        assert all(ref < cid and created[ref] <= at for cid, at, ref in referrals)
        top = await session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.referred_by_id.is_not(None))
            .group_by(Customer.referred_by_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        assert top >= 10  # some referrers bring many
        bad = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                (Event.amount < 0)
                | (Event.score < 0)
                | (Event.score > 10)
                | (Event.occurred_at > DEMO_NOW)
            )
        )
        assert bad == 0
        assert await session.scalar(select(func.min(Customer.created_at))) >= DEMO_NOW - timedelta(
            days=731
        )
        reasons = set(
            (
                await session.scalars(
                    select(Event.reason).where(Event.type == "SUBSCRIPTION_CANCELLED").distinct()
                )
            ).all()
        )
        assert reasons <= {
            "PRICE",
            "SERVICE_QUALITY",
            "COMPETITOR",
            "PRODUCT_FIT",
            "MOVED",
            "NO_LONGER_NEEDED",
            "OTHER",
        }
        # The demo writes its own stage paths; the lifecycle recompute after it may add moves.
        assert (
            await session.scalar(select(func.count()).select_from(StageChange))
            >= summary.stage_changes
        )
        last = (
            await session.execute(
                select(StageChange.customer_id, StageChange.to_stage).order_by(
                    StageChange.customer_id, StageChange.at.desc(), StageChange.id.desc()
                )
            )
        ).all()
        final = {}
        for cid, stage in last:
            final.setdefault(cid, stage)
        stages = dict((await session.execute(select(Customer.id, Customer.stage))).all())
        # Customers the rules never moved are prospects without history; the others end where
        # their last recorded move took them.
        assert {cid: stages[cid] for cid in final} == final
        assert {stage for cid, stage in stages.items() if cid not in final} <= {"AWARENESS"}
        assert set(stages.values()) == set(summary.stages)
        members = await session.scalar(select(func.count()).select_from(SegmentMember))
        assert members == sum(summary.segments.values())


async def test_load_demo_if_empty_loads_once(demo_services):
    first = await load_demo_if_empty(demo_services, customers=200, seed=1)
    second = await load_demo_if_empty(demo_services, customers=200, seed=1)
    assert first is not None and first.customers == 200
    assert second is None
    async with demo_services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 200
