"""An index for the worklist's flags: the current trends that changed reliably, by status.

Revision ID: 0009_registry_latency
Revises: 0008_registry_scale
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_registry_latency'
down_revision = '0008_registry_scale'
branch_labels = None
depends_on = None

RELIABLE_CURRENT = "current AND reliable_change IS TRUE"


def upgrade():
    with op.batch_alter_table('trends', schema=None) as batch_op:
        batch_op.create_index(
            'ix_trends_reliable_status', ['status', 'patient_id'], unique=False,
            postgresql_where=sa.text(RELIABLE_CURRENT), sqlite_where=sa.text(RELIABLE_CURRENT),
        )


def downgrade():
    with op.batch_alter_table('trends', schema=None) as batch_op:
        batch_op.drop_index('ix_trends_reliable_status')
