"""Indexes for a registry of 100,000 patients: the cohort's PGIC anchors and a clinician's
care teams.

Revision ID: 0008_registry_scale
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_registry_scale'
down_revision = '0006'
branch_labels = None
depends_on = None

PGIC_ONLY = "instrument = 'pgic'"


def upgrade():
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(
            'ix_checkins_pgic', ['patient_id'], unique=False,
            postgresql_where=sa.text(PGIC_ONLY), sqlite_where=sa.text(PGIC_ONLY),
        )
    with op.batch_alter_table('care_team', schema=None) as batch_op:
        batch_op.create_index('ix_care_team_user_patient', ['user_id', 'patient_id'], unique=False)


def downgrade():
    with op.batch_alter_table('care_team', schema=None) as batch_op:
        batch_op.drop_index('ix_care_team_user_patient')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_pgic')
