"""Trends per treatment and measure, and the marker of patients whose trends are stale.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trend_state',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('computed_seq', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_trend_state_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_trend_state'))
    )
    with op.batch_alter_table('trend_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trend_state_stale'), ['stale'], unique=False)

    op.create_table('trends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('instrument', sa.String(length=32), nullable=False),
    sa.Column('score_name', sa.String(length=32), nullable=False),
    sa.Column('baseline_value', sa.Float(), nullable=True),
    sa.Column('baseline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_value', sa.Float(), nullable=True),
    sa.Column('latest_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_days', sa.Integer(), nullable=True),
    sa.Column('change', sa.Float(), nullable=True),
    sa.Column('pct_change', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('rci', sa.Float(), nullable=True),
    sa.Column('reliable_change', sa.Boolean(), nullable=True),
    sa.Column('immpact_band', sa.String(length=16), nullable=True),
    sa.Column('slope_per_30d', sa.Float(), nullable=True),
    sa.Column('slope_se', sa.Float(), nullable=True),
    sa.Column('n_points', sa.Integer(), nullable=False),
    sa.Column('timepoints', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('series', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_trends_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_trends_treatment_id_treatments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trends')),
    sa.UniqueConstraint('treatment_id', 'instrument', 'score_name', name=op.f('uq_trends_treatment_id_instrument_score_name'))
    )
    with op.batch_alter_table('trends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trends_patient_id'), ['patient_id'], unique=False)

    # Patients recorded before trends existed get theirs computed by the next job run.
    op.execute("INSERT INTO trend_state (patient_id, stale) SELECT id, true FROM patients")


def downgrade():
    with op.batch_alter_table('trends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trends_patient_id'))

    op.drop_table('trends')
    with op.batch_alter_table('trend_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trend_state_stale'))

    op.drop_table('trend_state')