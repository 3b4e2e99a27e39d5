"""datasets: registered, versioned dataset definitions with the fingerprint of their files (core/datasets.py),
and the dataset <-> run lineage table the datasets-in-runs work fills

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('datasets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('definition_sha256', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('file_count', sa.Integer(), nullable=False),
    sa.Column('total_size', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=True),
    sa.Column('profile_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('profiled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'name', 'version', name='uq_dataset_version')
    )
    op.create_index('ix_datasets_workspace_name', 'datasets', ['workspace_id', 'name'], unique=False)
    op.create_table('dataset_runs',
    sa.Column('dataset_id', sa.String(length=36), nullable=False),
    sa.Column('run_id', sa.String(length=320), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dataset_id', 'run_id', 'direction', 'name')
    )
    op.create_index('ix_dataset_runs_run', 'dataset_runs', ['run_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dataset_runs_run', table_name='dataset_runs')
    op.drop_table('dataset_runs')
    op.drop_index('ix_datasets_workspace_name', table_name='datasets')
    op.drop_table('datasets')
