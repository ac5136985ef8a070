"""decision log import: imported decisions (propensity may be unknown), outcomes the learners skip

Revision ID: 0007
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("imported", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column("propensity", existing_type=sa.Float(), nullable=True)
        batch_op.create_check_constraint("propensity_known", "imported OR propensity IS NOT NULL")
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("learnable", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    # Imported rows without a propensity cannot survive the NOT NULL: drop them first.
    op.execute("DELETE FROM decisions WHERE propensity IS NULL")
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_column("learnable")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_constraint("ck_decisions_propensity_known", type_="check")
        batch_op.alter_column("propensity", existing_type=sa.Float(), nullable=False)
        batch_op.drop_column("imported")
