"""lifecycle: customer metrics and scores, alerts, reasons, lifecycle settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:13:26.418998
"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
ACTIVE = "status IN ('OPEN', 'ACTIONED')"

DEFAULT_REASONS = [
    ('CHURN', 'PRICE', 'Price'),
    ('CHURN', 'SERVICE_QUALITY', 'Service quality'),
    ('CHURN', 'COMPETITOR', 'Went to a competitor'),
    ('CHURN', 'PRODUCT_FIT', 'Product does not fit'),
    ('CHURN', 'MOVED', 'Moved away'),
    ('CHURN', 'NO_LONGER_NEEDED', 'No longer needed'),
    ('CHURN', 'OTHER', 'Other'),
    ('LOST_PROSPECT', 'PRICE', 'Price'),
    ('LOST_PROSPECT', 'TRUST', 'Did not trust us yet'),
    ('LOST_PROSPECT', 'COMPETITOR', 'Chose a competitor'),
    ('LOST_PROSPECT', 'PRODUCT_FIT', 'Product does not fit'),
    ('LOST_PROSPECT', 'TOO_COMPLEX', 'Too complex to start'),
    ('LOST_PROSPECT', 'NO_RESPONSE', 'Stopped answering'),
    ('LOST_PROSPECT', 'OTHER', 'Other'),
]


def upgrade() -> None:
    op.create_table('lifecycle_settings',
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('value', JSON_DOC, nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_lifecycle_settings'))
    )
    reason_codes = op.create_table('reason_codes',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('CHURN', 'LOST_PROSPECT')", name=op.f('ck_reason_codes_kind')),
    sa.PrimaryKeyConstraint('kind', 'code', name=op.f('pk_reason_codes'))
    )
    op.bulk_insert(reason_codes, [
        {'kind': kind, 'code': code, 'label': label, 'created_at': datetime(2026, 1, 1, tzinfo=UTC)}
        for kind, code, label in DEFAULT_REASONS
    ])
    op.create_table('customer_metrics',
    sa.Column('customer_id', BIG_ID, nullable=False),
    sa.Column('signup_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('second_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('kth_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_purchase_event_id', BIG_ID, nullable=True),
    sa.Column('purchase_count', sa.Integer(), nullable=False),
    sa.Column('monetary_total', sa.Numeric(precision=16, scale=2, asdecimal=False), nullable=False),
    sa.Column('median_gap_days', sa.Float(), nullable=True),
    sa.Column('last_cancel_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_cancel_event_id', BIG_ID, nullable=True),
    sa.Column('last_complaint_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_complaint_event_id', BIG_ID, nullable=True),
    sa.Column('last_survey_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_survey_score', sa.SmallInteger(), nullable=True),
    sa.Column('last_survey_event_id', BIG_ID, nullable=True),
    sa.Column('last_reactivation_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_metrics_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_metrics'))
    )
    op.create_table('customer_scores',
    sa.Column('customer_id', BIG_ID, nullable=False),
    sa.Column('recency', sa.SmallInteger(), nullable=True),
    sa.Column('frequency', sa.SmallInteger(), nullable=True),
    sa.Column('monetary', sa.SmallInteger(), nullable=True),
    sa.Column('rfm_segment', sa.String(length=30), nullable=True),
    sa.Column('value_tier', sa.String(length=10), nullable=False),
    sa.Column('window_monetary', sa.Numeric(precision=16, scale=2, asdecimal=False), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_scores_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_scores'))
    )
    op.create_table('alerts',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', BIG_ID, nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('evidence_event_id', BIG_ID, nullable=True),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("action IN ('RETENTION', 'RECOVERY')", name=op.f('ck_alerts_action')),
    sa.CheckConstraint("severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')", name=op.f('ck_alerts_severity')),
    sa.CheckConstraint("status IN ('OPEN', 'ACTIONED', 'RESOLVED', 'EXPIRED')", name=op.f('ck_alerts_status')),
    sa.CheckConstraint("type IN ('NEGATIVE_SURVEY', 'COMPLAINT', 'CANCELLATION_REQUEST', 'INACTIVITY')", name=op.f('ck_alerts_type')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_alerts_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evidence_event_id'], ['events.id'], name=op.f('fk_alerts_evidence_event_id_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_active_cause', ['customer_id', 'type'], unique=True, sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
        batch_op.create_index('ix_alerts_customer_id_type_evidence', ['customer_id', 'type', 'evidence_event_id'], unique=True)
        batch_op.create_index('ix_alerts_status_id', ['status', 'id'], unique=False)

    op.create_table('customer_reasons',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', BIG_ID, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=True),
    sa.Column('event_id', BIG_ID, nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('CHURN', 'LOST_PROSPECT')", name=op.f('ck_customer_reasons_kind')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_reasons_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_customer_reasons_event_id_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_reasons'))
    )
    with op.batch_alter_table('customer_reasons', schema=None) as batch_op:
        batch_op.create_index('ix_customer_reasons_customer_id_kind_at', ['customer_id', 'kind', 'at', 'id'], unique=False)
        batch_op.create_index('ix_customer_reasons_event_id', ['event_id'], unique=True)
        batch_op.create_index('ix_customer_reasons_kind_at', ['kind', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('customer_reasons', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_reasons_kind_at')
        batch_op.drop_index('ix_customer_reasons_event_id')
        batch_op.drop_index('ix_customer_reasons_customer_id_kind_at')

    op.drop_table('customer_reasons')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_status_id')
        batch_op.drop_index('ix_alerts_customer_id_type_evidence')
        batch_op.drop_index('ix_alerts_active_cause', sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))

    op.drop_table('alerts')
    op.drop_table('customer_scores')
    op.drop_table('customer_metrics')
    op.drop_table('reason_codes')
    op.drop_table('lifecycle_settings')
