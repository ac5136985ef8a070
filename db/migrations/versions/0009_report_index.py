"""reports: a decision-log index that the lever reports read without touching the table

Revision ID: 0009
Revises: 0004
"""

from alembic import op

revision = "0009"
down_revision = "0004"
branch_labels = None
depends_on = None

# On PostgreSQL the index carries every decision column the reports read, so they scan it
# (index-only) instead of the wide rows with their feature vectors and explanations; on SQLite
# it is a plain (decision point, time) index for time-range filters.
INCLUDE = ["id", "lever_key", "activated_at", "customer_id", "campaign_id"]


def upgrade() -> None:
    op.create_index(
        "ix_decisions_decision_point_id_created_at",
        "decisions",
        ["decision_point_id", "created_at"],
        postgresql_include=INCLUDE,
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_decision_point_id_created_at", table_name="decisions")
