"""metric value types: scalar points keep their type (int, bool, None, str) and v1's structured values

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('metric_chunks') as batch:
        batch.add_column(sa.Column('types', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('texts', sa.JSON(), nullable=True))
    with op.batch_alter_table('metric_series') as batch:
        batch.add_column(sa.Column('value_type', sa.String(length=8), nullable=True))
        batch.add_column(sa.Column('last_json', sa.Text(), nullable=True))
    with op.batch_alter_table('metric_values') as batch:
        batch.add_column(sa.Column('nonfinite', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('metric_values') as batch:
        batch.drop_column('nonfinite')
    with op.batch_alter_table('metric_series') as batch:
        batch.drop_column('last_json')
        batch.drop_column('value_type')
    with op.batch_alter_table('metric_chunks') as batch:
        batch.drop_column('texts')
        batch.drop_column('types')
