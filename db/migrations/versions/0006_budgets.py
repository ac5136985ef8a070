"""budgets, their usage per period, contact policies and campaigns

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("lever_key", sa.String(64), nullable=True),
        sa.Column("decision_point_key", sa.String(64), nullable=True),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("max_count", sa.BigInteger(), nullable=True),
        sa.Column("max_cost", sa.Float(), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("lever_key IS NOT NULL OR decision_point_key IS NOT NULL", name=op.f("ck_budgets_scope")),
        sa.CheckConstraint("(max_count IS NULL) <> (max_cost IS NULL)", name=op.f("ck_budgets_cap")),
        sa.CheckConstraint("period IN ('DAY', 'WEEK', 'MONTH', 'DAYS')", name=op.f("ck_budgets_period")),
        sa.CheckConstraint("period_days >= 1", name=op.f("ck_budgets_period_days")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint("key", name=op.f("uq_budgets_key")),
    )
    op.create_table(
        "budget_usage",
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Float(), nullable=False),
        sa.Column("cap", sa.Float(), nullable=False),
        sa.CheckConstraint("used >= 0 AND used <= cap", name=op.f("ck_budget_usage_within_cap")),
        sa.ForeignKeyConstraint(
            ["budget_id"], ["budgets.id"], name=op.f("fk_budget_usage_budget_id_budgets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("budget_id", "period_start", name=op.f("pk_budget_usage")),
    )
    op.create_table(
        "contact_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("config", JSON_DOC, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_policies")),
        sa.UniqueConstraint("scope", name=op.f("uq_contact_policies_scope")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("decision_point_key", sa.String(64), nullable=False),
        sa.Column("segment_key", sa.String(64), nullable=False),
        sa.Column("target_limit", sa.Integer(), nullable=False),
        sa.Column("defer_activation", sa.Boolean(), nullable=False),
        sa.Column("ranked", sa.Integer(), nullable=False),
        sa.Column("targeted", sa.Integer(), nullable=False),
        sa.Column("skipped", JSON_DOC, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index("ix_decisions_campaign_id", "decisions", ["campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_decisions_campaign_id", table_name="decisions")
    op.drop_table("campaigns")
    op.drop_table("contact_policies")
    op.drop_table("budget_usage")
    op.drop_table("budgets")
