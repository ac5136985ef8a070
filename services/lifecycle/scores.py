"""Value scores for the whole portfolio in two set-based statements: RFM quintiles and tiers.

Quintiles are SQL ``ntile(5)`` windows over customers who ever bought (ties broken by id, so a
recompute is deterministic): recency by the last purchase ever, frequency and monetary over the
configured window. Tiers rank buyers by monetary value in the window: the top
``tier_platinum_share`` are PLATINUM, the next ``tier_gold_share`` GOLD, the next
``tier_silver_share`` SILVER; everyone else, prospects included, is BRONZE.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import UtcDateTime
from db.dialect import dialect_name, insert_for
from db.models import Customer, CustomerMetrics, CustomerScores, Event
from services.lifecycle.config import LifecycleConfig

RFM_SEGMENTS = (
    "CHAMPIONS", "LOYAL", "POTENTIAL_LOYALIST", "NEW", "PROMISING", "NEED_ATTENTION",
    "ABOUT_TO_SLEEP", "AT_RISK", "CANT_LOSE_THEM", "HIBERNATING", "LOST",
)
TIERS = ("PLATINUM", "GOLD", "SILVER", "BRONZE")
WORK_MEM = "256MB"


def named_segment(r: object, f: object) -> object:
    """The standard RFM segment grid over recency and frequency scores, as a SQL CASE."""
    return case(
        (and_(r == 5, f >= 4), "CHAMPIONS"),
        (and_(r.in_((3, 4)), f >= 4), "LOYAL"),  # type: ignore[attr-defined]
        (and_(r >= 4, f.in_((2, 3))), "POTENTIAL_LOYALIST"),  # type: ignore[attr-defined]
        (and_(r == 5, f == 1), "NEW"),
        (and_(r == 4, f == 1), "PROMISING"),
        (and_(r == 3, f == 3), "NEED_ATTENTION"),
        (r == 3, "ABOUT_TO_SLEEP"),
        (f == 5, "CANT_LOSE_THEM"),
        (f >= 3, "AT_RISK"),
        (and_(r == 1, f == 1), "LOST"),
        else_="HIBERNATING",
    )


def segment_of(r: int, f: int) -> str:
    """The same grid in Python (tests and documentation use it)."""
    if r == 5 and f >= 4:
        return "CHAMPIONS"
    if r in (3, 4) and f >= 4:
        return "LOYAL"
    if r >= 4 and f in (2, 3):
        return "POTENTIAL_LOYALIST"
    if r >= 4:
        return "NEW" if r == 5 else "PROMISING"
    if r == 3:
        return "NEED_ATTENTION" if f == 3 else "ABOUT_TO_SLEEP"
    if f == 5:
        return "CANT_LOSE_THEM"
    if f >= 3:
        return "AT_RISK"
    return "LOST" if r == 1 and f == 1 else "HIBERNATING"


async def recompute(session: AsyncSession, now: datetime, config: LifecycleConfig) -> None:
    """Recompute every customer's scores; rows are written only where a score changed."""
    start = now - timedelta(days=config.rfm_window_days)
    window = (
        select(
            Event.customer_id,
            func.count().label("frequency"),
            func.coalesce(func.sum(Event.amount), 0).label("monetary"),
        )
        .where(Event.type == "PURCHASE", Event.occurred_at >= start, Event.occurred_at <= now)
        .group_by(Event.customer_id)
        .subquery("window")
    )
    w = window.c
    frequency = func.coalesce(w.frequency, 0)
    monetary = func.coalesce(w.monetary, 0)
    m = CustomerMetrics
    buyers = (
        select(
            m.customer_id,
            func.ntile(5).over(order_by=(m.last_purchase_at, m.customer_id)).label("r"),
            func.ntile(5).over(order_by=(frequency, m.customer_id)).label("f"),
            func.ntile(5).over(order_by=(monetary, m.customer_id)).label("m"),
            monetary.label("money"),
            func.row_number().over(order_by=(monetary.desc(), m.customer_id)).label("rank"),
            func.count().over().label("n"),
        )
        .outerjoin(window, w.customer_id == m.customer_id)
        .where(m.purchase_count > 0)
        .subquery("buyers")
    )
    b = buyers.c
    # Cumulative shares, with float noise (0.1 + 0.2) kept from moving a boundary customer.
    p = round(config.tier_platinum_share, 9) - 1e-9
    g = round(config.tier_platinum_share + config.tier_gold_share, 9) - 1e-9
    s = round(config.tier_platinum_share + config.tier_gold_share + config.tier_silver_share, 9) - 1e-9
    paying = b.money > 0
    tier = case(
        (and_(paying, b.rank - 1 < b.n * p), "PLATINUM"),
        (and_(paying, b.rank - 1 < b.n * g), "GOLD"),
        (and_(paying, b.rank - 1 < b.n * s), "SILVER"),
        else_="BRONZE",
    )
    source = (
        select(
            Customer.id,
            b.r,
            b.f,
            b.m,
            case((b.r.is_(None), None), else_=named_segment(b.r, b.f)),
            tier,
            func.coalesce(b.money, 0),
            literal(now, UtcDateTime()),
        )
        .outerjoin(buyers, b.customer_id == Customer.id)
        .where(literal(True))
    )
    columns = ["customer_id", "recency", "frequency", "monetary", "rfm_segment", "value_tier",
               "window_monetary", "computed_at"]
    if dialect_name(session) == "postgresql":
        # Four window sorts over every buyer: let them run in memory for this transaction.
        await session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    statement = insert_for(session, CustomerScores).from_select(columns, source)
    changing = columns[1:-1]
    # Only customers whose scores changed are written: a steady portfolio costs reads, not writes,
    # and readers of the customer view are never locked out as a table swap would.
    statement = statement.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={name: statement.excluded[name] for name in columns[1:]},
        where=tuple_(*[CustomerScores.__table__.c[n] for n in changing]).is_distinct_from(
            tuple_(*[statement.excluded[n] for n in changing])
        ),
    )
    await session.execute(statement)
