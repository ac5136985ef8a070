"""customers, events, stages and segments

Revision ID: 0001
Revises:
Create Date: 2026-11-22 07:00:09.825390
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('attributes', JSON_DOC, nullable=False),
    sa.Column('acquisition_channel', sa.String(length=20), nullable=False),
    sa.Column('referred_by_id', BIG_ID, nullable=True),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('stage_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("acquisition_channel IN ('WORD_OF_MOUTH', 'REFERRAL', 'ADVERTISING', 'DIRECT', 'PARTNER', 'OTHER')", name=op.f('ck_customers_acquisition_channel')),
    sa.CheckConstraint("stage IN ('AWARENESS', 'ACQUISITION', 'CONVERSION', 'GROWTH', 'RETENTION', 'CHURNED', 'REACTIVATED')", name=op.f('ck_customers_stage')),
    sa.ForeignKeyConstraint(['referred_by_id'], ['customers.id'], name=op.f('fk_customers_referred_by_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('external_id', name=op.f('uq_customers_external_id'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_referred_by_id'), ['referred_by_id'], unique=False)
        batch_op.create_index('ix_customers_stage_id', ['stage', 'id'], unique=False)
        batch_op.create_index('ix_customers_stage_created_at_id', ['stage', 'created_at', 'id'], unique=False)

    op.create_table('segments',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('rule', JSON_DOC, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments')),
    sa.UniqueConstraint('key', name=op.f('uq_segments_key'))
    )
    op.create_table('events',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', BIG_ID, nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('channel', sa.String(length=30), nullable=True),
    sa.Column('direction', sa.String(length=10), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('payload', JSON_DOC, nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.CheckConstraint("type IN ('PURCHASE', 'COMPLAINT', 'SURVEY', 'CONTACT', 'SIGNUP', 'TRIAL_STARTED', 'SUBSCRIPTION_CANCELLED', 'CUSTOM')", name=op.f('ck_events_type')),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_events_amount_not_negative')),
    sa.CheckConstraint('score IS NULL OR (score >= 0 AND score <= 10)', name=op.f('ck_events_score_range')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_events_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_events_idempotency_key'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_customer_id_occurred_at', ['customer_id', 'occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_events_type_occurred_at', ['type', 'occurred_at'], unique=False)

    op.create_table('segment_members',
    sa.Column('segment_id', BIG_ID, nullable=False),
    sa.Column('customer_id', BIG_ID, nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_segment_members_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_segment_members_segment_id_segments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('segment_id', 'customer_id', name=op.f('pk_segment_members'))
    )
    with op.batch_alter_table('segment_members', schema=None) as batch_op:
        batch_op.create_index('ix_segment_members_customer_id', ['customer_id', 'segment_id'], unique=False)

    op.create_table('stage_changes',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', BIG_ID, nullable=False),
    sa.Column('from_stage', sa.String(length=20), nullable=True),
    sa.Column('to_stage', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('rule', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_stage_changes_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_changes'))
    )
    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.create_index('ix_stage_changes_customer_id_at', ['customer_id', 'at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_changes_customer_id_at')

    op.drop_table('stage_changes')
    with op.batch_alter_table('segment_members', schema=None) as batch_op:
        batch_op.drop_index('ix_segment_members_customer_id')

    op.drop_table('segment_members')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_type_occurred_at')
        batch_op.drop_index('ix_events_customer_id_occurred_at')

    op.drop_table('events')
    op.drop_table('segments')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_stage_created_at_id')
        batch_op.drop_index('ix_customers_stage_id')
        batch_op.drop_index(batch_op.f('ix_customers_referred_by_id'))
        batch_op.drop_index('ix_customers_created_at_id')

    op.drop_table('customers')
