"""Next-best-offer aggregates: levers, decision points, the decision log, outcomes, model snapshots.

The decision log is the engine's training data: each decision keeps the encoded feature vector it
was made on and its propensity, and each outcome row's id is the order in which models learn.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, JsonDocument, utcnow

LEVER_KINDS = ("DISCOUNT", "FREE_SHIPPING", "LOYALTY_POINTS", "PREMIUM_SUPPORT", "BUNDLE", "PERSONAL_CALL", "NO_ACTION", "CUSTOM")
OUTCOME_SOURCES = ("REPORTED", "DEFAULT")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Lever(Base):
    __tablename__ = "levers"
    __table_args__ = (
        CheckConstraint(_in("kind", LEVER_KINDS), name="kind"),
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_percent"),
        CheckConstraint("unit_cost >= 0 AND contact_cost >= 0", name="costs"),
        CheckConstraint("cost_percent_of_value >= 0 AND cost_percent_of_value <= 100", name="cost_percent"),
        CheckConstraint("weight > 0", name="weight"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="CUSTOM")
    discount_percent: Mapped[float] = mapped_column(Float, default=0.0)
    unit_cost: Mapped[float] = mapped_column(Float, default=0.0)
    cost_percent_of_value: Mapped[float] = mapped_column(Float, default=0.0)
    contact_cost: Mapped[float] = mapped_column(Float, default=0.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # a rule tree in the segment rule language; NULL: eligible for everyone
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument, nullable=True)
    # business weight multiplying the lever's expected net value under NET_VALUE arbitration
    weight: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DecisionPoint(Base):
    """``version`` changes when features, policy or reward change: a new model starts from scratch.

    ``known_levers`` only grows: a lever removed from ``config`` is retired in the model, not
    forgotten, so re-adding it restores what was learned about it.
    """

    __tablename__ = "decision_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    known_levers: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    encoder: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint("propensity > 0 AND propensity <= 1", name="propensity"),
        # Only an imported historical decision may lack its propensity; the engine always logs one.
        CheckConstraint("imported OR propensity IS NOT NULL", name="propensity_known"),
        # NULL request ids never collide, on both backends.
        Index("ix_decisions_decision_point_id_request_id", "decision_point_id", "request_id", unique=True),
        Index("ix_decisions_customer_id_id", "customer_id", "id"),
        Index("ix_decisions_decision_point_id_window_ends_at", "decision_point_id", "window_ends_at"),
        Index("ix_decisions_decision_point_id_lever_key", "decision_point_id", "lever_key"),
        # The lever reports scan this instead of the wide rows (index-only on PostgreSQL).
        Index(
            "ix_decisions_decision_point_id_created_at",
            "decision_point_id",
            "created_at",
            postgresql_include=["id", "lever_key", "activated_at", "customer_id", "campaign_id"],
        ),
        Index("ix_decisions_campaign_id", "campaign_id"),
        # Small: decisions leave it when activated. The lever reports look up in it whether a
        # decision their rollup saw unactivated has been activated since (db.models.lever_rollup).
        Index(
            "ix_decisions_unactivated",
            "decision_point_id",
            "id",
            postgresql_where=text("activated_at IS NULL"),
            sqlite_where=text("activated_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    decision_point_id: Mapped[int] = mapped_column(Integer, ForeignKey("decision_points.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    request_id: Mapped[str | None] = mapped_column(String(128))
    lever_key: Mapped[str] = mapped_column(String(64))
    propensity: Mapped[float | None] = mapped_column(Float)
    expected_reward: Mapped[float] = mapped_column(Float)
    candidates: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    features: Mapped[list[float]] = mapped_column(JsonDocument, default=list)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    config_version: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    window_ends_at: Mapped[datetime | None]
    campaign_id: Mapped[int | None] = mapped_column(BigId)
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # a member of the decision point's control group: served its NO_ACTION lever
    holdout: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the policy configuration (arm) that made the decision and learns from its outcome
    policy_arm: Mapped[str] = mapped_column(String(64), default="main", server_default="main")
    # what a shadow arm would have served (never served)
    shadow_arm: Mapped[str | None] = mapped_column(String(64))
    shadow_lever: Mapped[str | None] = mapped_column(String(64))
    shadow_expected_reward: Mapped[float | None] = mapped_column(Float)


class Outcome(Base):
    """``id`` is the learning order (of the ``learnable`` ones). ``decision_point_id`` is copied from the decision so that the
    learners' tail (``WHERE decision_point_id = ? AND id > ?``) is one index range scan."""

    __tablename__ = "outcomes"
    __table_args__ = (
        CheckConstraint(_in("source", OUTCOME_SOURCES), name="source"),
        Index("ix_outcomes_decision_id", "decision_id", unique=True),
        Index("ix_outcomes_decision_point_id_id", "decision_point_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    decision_id: Mapped[int] = mapped_column(BigId, ForeignKey("decisions.id", ondelete="CASCADE"))
    decision_point_id: Mapped[int] = mapped_column(Integer, ForeignKey("decision_points.id", ondelete="CASCADE"))
    accepted: Mapped[bool] = mapped_column(Boolean)
    revenue: Mapped[float | None] = mapped_column(Float)
    reward: Mapped[float] = mapped_column(Float)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(10), default="REPORTED")
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # False for imported history that was not meant to warm-start the model: the learners skip it.
    learnable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class ModelSnapshot(Base):
    __tablename__ = "model_snapshots"
    __table_args__ = (
        Index("ix_model_snapshots_decision_point_id_config_version_id", "decision_point_id", "config_version", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    decision_point_id: Mapped[int] = mapped_column(Integer, ForeignKey("decision_points.id", ondelete="CASCADE"))
    config_version: Mapped[int] = mapped_column(Integer)
    policy_arm: Mapped[str] = mapped_column(String(64), default="main", server_default="main")
    encoder_version: Mapped[str] = mapped_column(String(32))
    outcomes_applied: Mapped[int] = mapped_column(Integer)
    last_outcome_id: Mapped[int] = mapped_column(BigId)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
