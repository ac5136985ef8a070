"""The lever reports' rollup of the decision log: sums of settled decisions, kept by watermarks.

A decision is *settled* once it has an outcome: from then on neither row changes, so its share of
every report can be added up once. The rollup holds the settled decisions up to a watermark on
decision ids and one on outcome ids (``LeverRollupMark``), summed twice: per UTC day of the
decision (time filters, timeline) and per customer (breakdowns by the customer's current state).
Decisions at or below the watermark that were still unsettled are listed in
``LeverOpenDecision``; the reports read them, and every decision above the watermark, live.
``campaign`` is the decision's campaign id, 0 for none (a key column cannot be NULL).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

NO_CAMPAIGN = 0


class LeverRollupMark(Base):
    """How far the rollup of one decision point has read, and the next safe watermark: ids seen at
    ``pending_since`` become safe once every transaction open at that moment has ended."""

    __tablename__ = "lever_rollup_marks"

    decision_point_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("decision_points.id", ondelete="CASCADE"), primary_key=True
    )
    last_decision_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_outcome_id: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_decision_id: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_outcome_id: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_since: Mapped[datetime | None] = mapped_column()


class _Sums:
    decisions: Mapped[int] = mapped_column(BigInteger)
    activated: Mapped[int] = mapped_column(BigInteger)
    outcomes: Mapped[int] = mapped_column(BigInteger)
    accepted: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[float] = mapped_column(Float)
    revenue_sq: Mapped[float] = mapped_column(Float)


class LeverDaySums(_Sums, Base):
    __tablename__ = "lever_day_sums"

    decision_point_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("decision_points.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    lever_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class LeverCustomerSums(_Sums, Base):
    __tablename__ = "lever_customer_sums"

    decision_point_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("decision_points.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lever_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class LeverOpenDecision(Base):
    """A decision at or below the watermark without an outcome when the rollup last read it, with
    the columns the reports group by (they never change) and its activation as then known."""

    __tablename__ = "lever_open_decisions"

    decision_point_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("decision_points.id", ondelete="CASCADE"), primary_key=True
    )
    decision_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lever_key: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column()
    activated_at: Mapped[datetime | None] = mapped_column()
