"""lifecycle queue: customers whose lifecycle pass runs in the background

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "lifecycle_queue",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_ids", JSON_DOC, nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_queue")),
    )


def downgrade() -> None:
    op.drop_table("lifecycle_queue")
