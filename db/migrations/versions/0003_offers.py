"""offers: levers, decision points, the decision log, outcomes and model snapshots

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 07:31:45.445844
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('decision_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('config', JSON_DOC, nullable=False),
    sa.Column('known_levers', JSON_DOC, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('encoder', JSON_DOC, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_points')),
    sa.UniqueConstraint('key', name=op.f('uq_decision_points_key'))
    )
    op.create_table('levers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('discount_percent', sa.Float(), nullable=False),
    sa.Column('unit_cost', sa.Float(), nullable=False),
    sa.Column('cost_percent_of_value', sa.Float(), nullable=False),
    sa.Column('contact_cost', sa.Float(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('DISCOUNT', 'FREE_SHIPPING', 'LOYALTY_POINTS', 'PREMIUM_SUPPORT', 'BUNDLE', 'PERSONAL_CALL', 'NO_ACTION', 'CUSTOM')", name=op.f('ck_levers_kind')),
    sa.CheckConstraint('cost_percent_of_value >= 0 AND cost_percent_of_value <= 100', name=op.f('ck_levers_cost_percent')),
    sa.CheckConstraint('discount_percent >= 0 AND discount_percent <= 100', name=op.f('ck_levers_discount_percent')),
    sa.CheckConstraint('unit_cost >= 0 AND contact_cost >= 0', name=op.f('ck_levers_costs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_levers')),
    sa.UniqueConstraint('key', name=op.f('uq_levers_key'))
    )
    op.create_table('decisions',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('decision_point_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', BIG_ID, nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('lever_key', sa.String(length=64), nullable=False),
    sa.Column('propensity', sa.Float(), nullable=False),
    sa.Column('expected_reward', sa.Float(), nullable=False),
    sa.Column('candidates', JSON_DOC, nullable=False),
    sa.Column('features', JSON_DOC, nullable=False),
    sa.Column('context', JSON_DOC, nullable=False),
    sa.Column('explanation', JSON_DOC, nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('model_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('campaign_id', BIG_ID, nullable=True),
    sa.CheckConstraint('propensity > 0 AND propensity <= 1', name=op.f('ck_decisions_propensity')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_decisions_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decision_point_id'], ['decision_points.id'], name=op.f('fk_decisions_decision_point_id_decision_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_customer_id_id', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_decisions_decision_point_id_lever_key', ['decision_point_id', 'lever_key'], unique=False)
        batch_op.create_index('ix_decisions_decision_point_id_request_id', ['decision_point_id', 'request_id'], unique=True)
        batch_op.create_index('ix_decisions_decision_point_id_window_ends_at', ['decision_point_id', 'window_ends_at'], unique=False)

    op.create_table('model_snapshots',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('decision_point_id', sa.Integer(), nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('encoder_version', sa.String(length=32), nullable=False),
    sa.Column('outcomes_applied', sa.Integer(), nullable=False),
    sa.Column('last_outcome_id', BIG_ID, nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decision_point_id'], ['decision_points.id'], name=op.f('fk_model_snapshots_decision_point_id_decision_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_snapshots'))
    )
    with op.batch_alter_table('model_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_model_snapshots_decision_point_id_config_version_id', ['decision_point_id', 'config_version', 'id'], unique=False)

    op.create_table('outcomes',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('decision_id', BIG_ID, nullable=False),
    sa.Column('decision_point_id', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('revenue', sa.Float(), nullable=True),
    sa.Column('reward', sa.Float(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('REPORTED', 'DEFAULT')", name=op.f('ck_outcomes_source')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_outcomes_decision_id_decisions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decision_point_id'], ['decision_points.id'], name=op.f('fk_outcomes_decision_point_id_decision_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcomes'))
    )
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.create_index('ix_outcomes_decision_id', ['decision_id'], unique=True)
        batch_op.create_index('ix_outcomes_decision_point_id_id', ['decision_point_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.drop_index('ix_outcomes_decision_point_id_id')
        batch_op.drop_index('ix_outcomes_decision_id')

    op.drop_table('outcomes')
    with op.batch_alter_table('model_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_model_snapshots_decision_point_id_config_version_id')

    op.drop_table('model_snapshots')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_decision_point_id_window_ends_at')
        batch_op.drop_index('ix_decisions_decision_point_id_request_id')
        batch_op.drop_index('ix_decisions_decision_point_id_lever_key')
        batch_op.drop_index('ix_decisions_customer_id_id')

    op.drop_table('decisions')
    op.drop_table('levers')
    op.drop_table('decision_points')
