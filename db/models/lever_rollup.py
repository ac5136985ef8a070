"""The lever reports' rollup of the decision log, kept by watermarks.

The rollup sums the decisions up to a watermark on decision ids and their outcomes up to one on
outcome ids (``LeverRollupMark``), twice: per UTC day of the decision (time filters, timeline) and
per customer (breakdowns by the customer's current state). A decision changes only twice: it is
activated, and it gets its one outcome. So the reports add to the rollup, live, the decisions
above the watermark, the outcomes above it, and the activations of the decisions that were not
activated when the rollup read them (``LeverUnactivatedDecision``).
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


class LeverUnactivatedDecision(Base):
    """A decision at or below the watermark that was not activated when the rollup last read it,
    with the columns the reports group by (they never change)."""

    __tablename__ = "lever_unactivated_decisions"

    decision_point_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("decision_points.id", ondelete="CASCADE"), primary_key=True
    )
    decision_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lever_key: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column()
