"""incremental lifecycle facts: purchase gaps and the facts' config basis in customer_metrics, the
batch's event ids in lifecycle_queue

Revision ID: 0011
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Existing rows keep a NULL basis, so their facts are re-derived on their next pass.
    with op.batch_alter_table("customer_metrics") as batch:
        batch.add_column(sa.Column("purchase_gaps_ms", JSON_DOC, nullable=True))
        batch.add_column(sa.Column("facts_basis", sa.String(length=40), nullable=True))
    with op.batch_alter_table("lifecycle_queue") as batch:
        batch.add_column(sa.Column("event_ids", JSON_DOC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lifecycle_queue") as batch:
        batch.drop_column("event_ids")
    with op.batch_alter_table("customer_metrics") as batch:
        batch.drop_column("facts_basis")
        batch.drop_column("purchase_gaps_ms")
