"""Trends keep no series (the patient's view computes it) and a digest per patient.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trend_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sa.LargeBinary(), nullable=True))

    with op.batch_alter_table('trends', schema=None) as batch_op:
        batch_op.drop_column('series')


def downgrade():
    with op.batch_alter_table('trends', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series', sa.JSON(), server_default='[]', nullable=False))
    with op.batch_alter_table('trends', schema=None) as batch_op:
        batch_op.alter_column('series', server_default=None)

    with op.batch_alter_table('trend_state', schema=None) as batch_op:
        batch_op.drop_column('digest')

    # The series come back empty: the next job run computes them again.
    op.execute("UPDATE trend_state SET stale = true")
