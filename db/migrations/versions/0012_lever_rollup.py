"""reports: the lever reports' rollup of the decision log, its watermarks, the decisions it saw
unactivated, and an index of the unactivated decisions

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _point() -> sa.Column:
    return sa.Column("decision_point_id", sa.Integer(), nullable=False)


def _point_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["decision_point_id"], ["decision_points.id"],
        name=op.f(f"fk_{table}_decision_point_id_decision_points"), ondelete="CASCADE",
    )


def _sums() -> list[sa.Column]:
    return [
        sa.Column("decisions", sa.BigInteger(), nullable=False),
        sa.Column("activated", sa.BigInteger(), nullable=False),
        sa.Column("outcomes", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.Column("revenue_sq", sa.Float(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "lever_rollup_marks",
        _point(),
        sa.Column("last_decision_id", sa.BigInteger(), nullable=False),
        sa.Column("last_outcome_id", sa.BigInteger(), nullable=False),
        sa.Column("pending_decision_id", sa.BigInteger(), nullable=False),
        sa.Column("pending_outcome_id", sa.BigInteger(), nullable=False),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
        _point_key("lever_rollup_marks"),
        sa.PrimaryKeyConstraint("decision_point_id", name=op.f("pk_lever_rollup_marks")),
    )
    op.create_table(
        "lever_day_sums",
        _point(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("lever_key", sa.String(64), nullable=False),
        sa.Column("campaign", sa.BigInteger(), nullable=False),
        *_sums(),
        _point_key("lever_day_sums"),
        sa.PrimaryKeyConstraint("decision_point_id", "day", "lever_key", "campaign", name=op.f("pk_lever_day_sums")),
    )
    op.create_table(
        "lever_customer_sums",
        _point(),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("lever_key", sa.String(64), nullable=False),
        sa.Column("campaign", sa.BigInteger(), nullable=False),
        *_sums(),
        _point_key("lever_customer_sums"),
        sa.PrimaryKeyConstraint(
            "decision_point_id", "customer_id", "lever_key", "campaign", name=op.f("pk_lever_customer_sums")
        ),
    )
    op.create_table(
        "lever_unactivated_decisions",
        _point(),
        sa.Column("decision_id", sa.BigInteger(), nullable=False),
        sa.Column("lever_key", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _point_key("lever_unactivated_decisions"),
        sa.PrimaryKeyConstraint("decision_point_id", "decision_id", name=op.f("pk_lever_unactivated_decisions")),
    )
    op.create_index(
        "ix_decisions_unactivated", "decisions", ["decision_point_id", "id"],
        postgresql_where=sa.text("activated_at IS NULL"), sqlite_where=sa.text("activated_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_unactivated", table_name="decisions")
    for table in ("lever_unactivated_decisions", "lever_customer_sums", "lever_day_sums", "lever_rollup_marks"):
        op.drop_table(table)
