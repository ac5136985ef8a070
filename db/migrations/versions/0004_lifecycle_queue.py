"""lifecycle queue: customers whose lifecycle pass runs in the background

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lifecycle_queue",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_lifecycle_queue_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_queue")),
    )
    op.create_index("ix_lifecycle_queue_customer_id", "lifecycle_queue", ["customer_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_lifecycle_queue_customer_id", table_name="lifecycle_queue")
    op.drop_table("lifecycle_queue")
