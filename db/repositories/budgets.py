"""Budgets and their per-period usage. Queries never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import dialect_name, insert_for
from db.models import Budget, BudgetUsage, CustomerMetrics, Decision


async def all_budgets(session: AsyncSession) -> list[Budget]:
    return list((await session.scalars(select(Budget).order_by(Budget.key))).all())


async def upsert_budget(session: AsyncSession, row: dict[str, Any], now: datetime) -> Budget:
    changes = {k: v for k, v in row.items() if k != "key"}
    statement = insert_for(session, Budget).values(**row, created_at=now, updated_at=now)
    statement = statement.on_conflict_do_update(index_elements=["key"], set_={**changes, "updated_at": now})
    await session.execute(statement)
    budget = await session.scalar(select(Budget).where(Budget.key == row["key"]).execution_options(populate_existing=True))
    assert budget is not None
    return budget


async def usage(session: AsyncSession, periods: Sequence[tuple[int, datetime]]) -> dict[int, float]:
    """What each (budget id, period start) has used so far; absent pairs have used nothing."""
    if not periods:
        return {}
    query = select(BudgetUsage.budget_id, BudgetUsage.used).where(
        tuple_(BudgetUsage.budget_id, BudgetUsage.period_start).in_(list(periods))
    )
    return {budget_id: used for budget_id, used in (await session.execute(query)).all()}


async def reserve(session: AsyncSession, claims: Sequence[tuple[int, datetime, float, float]]) -> set[int]:
    """Add ``amount`` to each (budget id, period start, amount, cap) whose usage stays within its
    cap, in ONE statement; returns the budget ids granted.

    The upsert's WHERE is evaluated on the row as locked by the upsert (PostgreSQL re-checks it on
    the newest version after waiting for a concurrent writer; SQLite has a single writer), so two
    transactions can never both pass it on the same remaining amount. Claims are sent in budget id
    order so that concurrent transactions lock usage rows in the same order (no deadlock). A caller
    that is not granted every claim must roll back its transaction.
    """
    if not claims:
        return set()
    table = BudgetUsage.__table__
    rows = [{"budget_id": b, "period_start": p, "used": amount, "cap": cap} for b, p, amount, cap in sorted(claims)]
    statement = insert_for(session, BudgetUsage).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["budget_id", "period_start"],
        set_={"used": table.c.used + statement.excluded.used, "cap": statement.excluded.cap},
        where=table.c.used + statement.excluded.used <= statement.excluded.cap,
    ).returning(table.c.budget_id)
    return set((await session.scalars(statement)).all())


async def order_values(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, float]:
    """Average order value per customer (monetary total / purchases); customers without purchases are absent."""
    query = select(CustomerMetrics.customer_id, CustomerMetrics.monetary_total, CustomerMetrics.purchase_count).where(
        CustomerMetrics.customer_id.in_(list(customer_ids)), CustomerMetrics.purchase_count > 0
    )
    rows: list[Row[Any]] = list((await session.execute(query)).all())
    return {r.customer_id: float(r.monetary_total or 0) / r.purchase_count for r in rows}


async def lock_usage(session: AsyncSession, periods: Sequence[tuple[int, datetime, float]]) -> dict[int, float]:
    """Create the usage rows of (budget id, period start, cap) that are missing, lock them in
    budget id order (PostgreSQL FOR UPDATE; SQLite has one writer) and return what each has used.
    For batches, which take as much of a budget as is left: see ``set_usage``."""
    if not periods:
        return {}
    rows = [{"budget_id": b, "period_start": p, "used": 0.0, "cap": cap} for b, p, cap in sorted(periods)]
    await session.execute(insert_for(session, BudgetUsage).values(rows).on_conflict_do_nothing())
    query = (
        select(BudgetUsage.budget_id, BudgetUsage.used)
        .where(tuple_(BudgetUsage.budget_id, BudgetUsage.period_start).in_([(b, p) for b, p, _ in periods]))
        .order_by(BudgetUsage.budget_id)
    )
    if dialect_name(session) == "postgresql":
        query = query.with_for_update()
    return {budget_id: used for budget_id, used in (await session.execute(query)).all()}


async def set_usage(session: AsyncSession, usage: Sequence[tuple[int, datetime, float, float]]) -> None:
    """Store (budget id, period start, used, cap) for rows locked by ``lock_usage``."""
    for budget_id, start, used, cap in sorted(usage):
        await session.execute(
            update(BudgetUsage)
            .where(BudgetUsage.budget_id == budget_id, BudgetUsage.period_start == start)
            .values(used=used, cap=cap)
        )


async def delete_decisions(session: AsyncSession, ids: Sequence[int]) -> None:
    """Take back decisions inserted in this transaction that a guard refused."""
    if ids:
        await session.execute(delete(Decision).where(Decision.id.in_(list(ids))))
