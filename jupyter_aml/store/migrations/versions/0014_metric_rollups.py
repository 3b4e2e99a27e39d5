"""metric_rollups: stored min/max levels of full scalar chunks, so a chart of a long series reads a few
thousand points instead of all of them (core/metric_rollups.py)

Existing full chunks get their rollups the first time a chart reads them (no backfill here: a store with
100M points would spend minutes in this migration).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('metric_rollups',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('chunk_no', sa.Integer(), nullable=False),
    sa.Column('pos', sa.LargeBinary(), nullable=False),
    sa.Column('steps', sa.LargeBinary(), nullable=False),
    sa.Column('values', sa.LargeBinary(), nullable=False),
    sa.Column('times', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['metric_series.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('series_id', 'level', 'chunk_no')
    )


def downgrade() -> None:
    op.drop_table('metric_rollups')
