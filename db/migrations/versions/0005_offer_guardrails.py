"""offer guardrails: lever eligibility and weight, holdout and policy arms on decisions and snapshots

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("levers") as batch:
        batch.add_column(sa.Column("eligibility", JSON_DOC, nullable=True))
        batch.add_column(sa.Column("weight", sa.Float(), server_default="1", nullable=False))
        batch.create_check_constraint(op.f("ck_levers_weight"), "weight > 0")
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("holdout", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("policy_arm", sa.String(length=64), server_default="main", nullable=False))
        batch.add_column(sa.Column("shadow_arm", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("shadow_lever", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("shadow_expected_reward", sa.Float(), nullable=True))
    with op.batch_alter_table("model_snapshots") as batch:
        batch.add_column(sa.Column("policy_arm", sa.String(length=64), server_default="main", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("model_snapshots") as batch:
        batch.drop_column("policy_arm")
    with op.batch_alter_table("decisions") as batch:
        for column in ("shadow_expected_reward", "shadow_lever", "shadow_arm", "policy_arm", "holdout"):
            batch.drop_column(column)
    with op.batch_alter_table("levers") as batch:
        batch.drop_constraint(op.f("ck_levers_weight"), type_="check")
        batch.drop_column("weight")
        batch.drop_column("eligibility")
