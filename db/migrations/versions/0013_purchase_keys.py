"""stored lifecycle facts keep every purchase's (time, event id) instead of the sorted gaps between them

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # The gaps are a cache of the timeline, like every stored fact. Clearing the basis makes each
    # customer's next pass re-derive its facts (with the times) before anything is merged.
    with op.batch_alter_table("customer_metrics") as batch:
        batch.add_column(sa.Column("purchase_keys", JSON_DOC, nullable=True))
        batch.drop_column("purchase_gaps_ms")
    op.execute("UPDATE customer_metrics SET facts_basis = NULL")


def downgrade() -> None:
    with op.batch_alter_table("customer_metrics") as batch:
        batch.add_column(sa.Column("purchase_gaps_ms", JSON_DOC, nullable=True))
        batch.drop_column("purchase_keys")
    op.execute("UPDATE customer_metrics SET facts_basis = NULL")
