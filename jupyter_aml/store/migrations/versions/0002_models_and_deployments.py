"""models and deployments: model registry, environments, web services, their telemetry, images

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:07:37.359584
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deployments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('compute_type', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('model_ids', sa.JSON(), nullable=False),
    sa.Column('inference_config', sa.JSON(), nullable=False),
    sa.Column('deployment_config', sa.JSON(), nullable=False),
    sa.Column('pending', sa.JSON(), nullable=True),
    sa.Column('operation', sa.JSON(), nullable=True),
    sa.Column('port', sa.Integer(), nullable=True),
    sa.Column('primary_key', sa.String(length=128), nullable=False),
    sa.Column('secondary_key', sa.String(length=128), nullable=False),
    sa.Column('image_id', sa.String(length=64), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('error', sa.JSON(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'name', name='uq_deployment_name')
    )
    op.create_table('environments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('spec_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'name', 'version', name='uq_environment_version')
    )
    with op.batch_alter_table('environments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_environments_spec_hash'), ['spec_hash'], unique=False)

    op.create_table('images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('tag', sa.String(length=255), nullable=False),
    sa.Column('docker_id', sa.String(length=128), nullable=False),
    sa.Column('base_image', sa.String(length=512), nullable=False),
    sa.Column('environment', sa.JSON(), nullable=False),
    sa.Column('model_ids', sa.JSON(), nullable=False),
    sa.Column('snapshot_id', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'content_hash', name='uq_image_hash')
    )
    op.create_table('model_names',
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('last_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', 'name')
    )
    op.create_table('models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('framework', sa.String(length=64), nullable=True),
    sa.Column('framework_version', sa.String(length=64), nullable=True),
    sa.Column('sample_input', sa.JSON(), nullable=True),
    sa.Column('run_id', sa.String(length=320), nullable=True),
    sa.Column('experiment', sa.String(length=255), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('file_count', sa.Integer(), nullable=False),
    sa.Column('total_size', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'name', 'version', name='uq_model_version')
    )
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.create_index('ix_models_run', ['run_id'], unique=False)
        batch_op.create_index('ix_models_workspace_created', ['workspace_id', 'created_at'], unique=False)

    op.create_table('deployment_models',
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ),
    sa.PrimaryKeyConstraint('deployment_id', 'model_id')
    )
    with op.batch_alter_table('deployment_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deployment_models_model_id'), ['model_id'], unique=False)

    op.create_table('endpoint_stats',
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('minute', sa.BigInteger(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('errors_4xx', sa.Integer(), nullable=False),
    sa.Column('errors_5xx', sa.Integer(), nullable=False),
    sa.Column('latency_sum', sa.Float(), nullable=False),
    sa.Column('latency_hist', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('deployment_id', 'minute')
    )
    op.create_table('model_files',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'path')
    )
    op.create_table('model_properties',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'key')
    )
    with op.batch_alter_table('model_properties', schema=None) as batch_op:
        batch_op.create_index('ix_model_props_kv', ['key', 'value'], unique=False)

    op.create_table('model_tags',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'key')
    )
    with op.batch_alter_table('model_tags', schema=None) as batch_op:
        batch_op.create_index('ix_model_tags_kv', ['key', 'value'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('model_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_model_tags_kv')

    op.drop_table('model_tags')
    with op.batch_alter_table('model_properties', schema=None) as batch_op:
        batch_op.drop_index('ix_model_props_kv')

    op.drop_table('model_properties')
    op.drop_table('model_files')
    op.drop_table('endpoint_stats')
    with op.batch_alter_table('deployment_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deployment_models_model_id'))

    op.drop_table('deployment_models')
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.drop_index('ix_models_workspace_created')
        batch_op.drop_index('ix_models_run')

    op.drop_table('models')
    op.drop_table('model_names')
    op.drop_table('images')
    with op.batch_alter_table('environments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_environments_spec_hash'))

    op.drop_table('environments')
    op.drop_table('deployments')