"""pipelines: each pipeline run's graph, so the service resumes driving it after a restart, and the step
runs by reuse key (core/pipelines.py)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pipeline_runs',
    sa.Column('run_id', sa.String(length=320), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('graph', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id')
    )
    op.create_table('pipeline_reuse',
    sa.Column('run_id', sa.String(length=320), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('reuse_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id')
    )
    op.create_index('ix_pipeline_reuse_key', 'pipeline_reuse', ['workspace_id', 'reuse_key'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pipeline_reuse_key', table_name='pipeline_reuse')
    op.drop_table('pipeline_reuse')
    op.drop_table('pipeline_runs')
