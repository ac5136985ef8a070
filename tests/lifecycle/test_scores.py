"""RFM quintiles, named segments and value tiers, computed set-based for the whole portfolio."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from db.models import Customer, CustomerScores
from services.container import Services
from services.domain import CustomerDraft, EventDraft
from services.lifecycle.scores import segment_of

NOW = datetime.now(UTC).replace(microsecond=0)


def test_every_rfm_cell_has_a_named_segment() -> None:
    names = {segment_of(r, f) for r in range(1, 6) for f in range(1, 6)}
    assert names == {"CHAMPIONS", "LOYAL", "POTENTIAL_LOYALIST", "NEW", "PROMISING", "NEED_ATTENTION",
                     "ABOUT_TO_SLEEP", "AT_RISK", "CANT_LOSE_THEM", "HIBERNATING", "LOST"}


async def test_quintiles_segments_and_tiers_by_monetary_share(services: Services) -> None:
    services.lifecycle.clock = lambda: NOW
    # s1..s20 bought i times, i*10 per purchase, the last one i days ago; s0 is a prospect.
    await services.customers.upsert_many([CustomerDraft(external_id=f"s{i}") for i in range(21)])
    events = [
        EventDraft(f"s{i}", "PURCHASE", NOW - timedelta(days=21 - i, hours=k), amount=10.0 * i)
        for i in range(1, 21) for k in range(i)
    ]
    assert not (await services.events.record_many(events)).errors
    await services.lifecycle.rescore()
    async with services.sessions() as session:
        rows = {
            ext: (r, f, m, seg, tier)
            for ext, r, f, m, seg, tier in (await session.execute(
                select(Customer.external_id, CustomerScores.recency, CustomerScores.frequency,
                       CustomerScores.monetary, CustomerScores.rfm_segment, CustomerScores.value_tier)
                .join(CustomerScores, CustomerScores.customer_id == Customer.id)
            )).all()
        }
    assert rows["s0"] == (None, None, None, None, "BRONZE")
    assert rows["s20"] == (5, 5, 5, "CHAMPIONS", "PLATINUM")
    assert rows["s1"][:4] == (1, 1, 1, "LOST")
    tiers = [rows[f"s{i}"][4] for i in range(20, 0, -1)]
    assert tiers == ["PLATINUM"] * 2 + ["GOLD"] * 4 + ["SILVER"] * 6 + ["BRONZE"] * 8
    assert sorted(rows[f"s{i}"][0] for i in range(1, 21)) == sorted([1, 2, 3, 4, 5] * 4)
