"""Spend caps (budgets) and what each has used per period, plus contact policies.

A budget caps the offers of one lever or of one decision point per period, as a count or as money
(the cost an offer commits to). ``budget_usage`` holds one row per budget and period; a decision
reserves its share with one conditional upsert in the transaction that logs it, so concurrent
decisions can never take a budget over its cap (``used <= cap`` is also a table constraint).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow

BUDGET_PERIODS = ("DAY", "WEEK", "MONTH", "DAYS")


class Budget(Base):
    __tablename__ = "budgets"
    __table_args__ = (
        CheckConstraint("lever_key IS NOT NULL OR decision_point_key IS NOT NULL", name="scope"),
        CheckConstraint("(max_count IS NULL) <> (max_cost IS NULL)", name="cap"),
        CheckConstraint("period IN ('DAY', 'WEEK', 'MONTH', 'DAYS')", name="period"),
        CheckConstraint("period_days >= 1", name="period_days"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    lever_key: Mapped[str | None] = mapped_column(String(64))
    decision_point_key: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8))
    period_days: Mapped[int] = mapped_column(Integer, default=1)
    max_count: Mapped[int | None] = mapped_column(BigInteger)
    max_cost: Mapped[float | None] = mapped_column(Float)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BudgetUsage(Base):
    """``cap`` is copied from the budget on every reservation, so the conditional upsert can
    compare against it without reading the budget row."""

    __tablename__ = "budget_usage"
    __table_args__ = (CheckConstraint("used >= 0 AND used <= cap", name="within_cap"),)

    budget_id: Mapped[int] = mapped_column(Integer, ForeignKey("budgets.id", ondelete="CASCADE"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    used: Mapped[float] = mapped_column(Float)
    cap: Mapped[float] = mapped_column(Float)


class ContactPolicy(Base):
    """``scope`` is ``*`` for the global policy or a decision point key; ``config`` holds the
    limits (and, globally, the rejection suppression) as checked by the contact policy service."""

    __tablename__ = "contact_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), unique=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
