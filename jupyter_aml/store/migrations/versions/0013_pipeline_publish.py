"""published pipelines, pipeline endpoints (versions of published pipelines under one URL) and schedules
with their firings, one row per (schedule, slot) so a restarted service never fires a slot twice
(core/pipeline_publish.py, core/schedules.py)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pipeline_endpoints',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('default_version', sa.String(length=64), nullable=False),
    sa.Column('version_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'name', name='uq_pipeline_endpoints_name')
    )
    op.create_table('published_pipelines',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('graph', sa.JSON(), nullable=False),
    sa.Column('graph_id', sa.String(length=64), nullable=False),
    sa.Column('continue_on_step_failure', sa.Boolean(), nullable=False),
    sa.Column('source_run_id', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_published_pipelines_ws', 'published_pipelines', ['workspace_id', 'created_at'], unique=False)
    op.create_table('pipeline_endpoint_versions',
    sa.Column('endpoint_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('pipeline_id', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['pipeline_endpoints.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pipeline_id'], ['published_pipelines.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('endpoint_id', 'version')
    )
    op.create_table('pipeline_schedules',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('experiment_name', sa.String(length=255), nullable=False),
    sa.Column('pipeline_id', sa.String(length=64), nullable=True),
    sa.Column('pipeline_endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('recurrence', sa.JSON(), nullable=True),
    sa.Column('cron', sa.String(length=255), nullable=True),
    sa.Column('datastore', sa.String(length=255), nullable=True),
    sa.Column('path_on_datastore', sa.String(length=1024), nullable=True),
    sa.Column('polling_interval', sa.Float(), nullable=False),
    sa.Column('data_state', sa.JSON(), nullable=True),
    sa.Column('pipeline_parameters', sa.JSON(), nullable=False),
    sa.Column('continue_on_step_failure', sa.Boolean(), nullable=True),
    sa.Column('next_fire_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_fire_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['pipeline_endpoint_id'], ['pipeline_endpoints.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pipeline_id'], ['published_pipelines.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_pipeline_schedules_due', 'pipeline_schedules', ['status', 'next_fire_at'], unique=False)
    op.create_table('pipeline_schedule_fires',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('schedule_id', sa.String(length=64), nullable=False),
    sa.Column('slot', sa.String(length=64), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_id', sa.String(length=320), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['schedule_id'], ['pipeline_schedules.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('schedule_id', 'slot', name='uq_pipeline_schedule_fires_slot')
    )


def downgrade() -> None:
    op.drop_table('pipeline_schedule_fires')
    op.drop_index('ix_pipeline_schedules_due', table_name='pipeline_schedules')
    op.drop_table('pipeline_schedules')
    op.drop_table('pipeline_endpoint_versions')
    op.drop_index('ix_published_pipelines_ws', table_name='published_pipelines')
    op.drop_table('published_pipelines')
    op.drop_table('pipeline_endpoints')
