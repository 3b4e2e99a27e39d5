"""mlflow: traces, run inputs (runs/log-inputs) and logged models in their own tables (store/tables_mlflow.py);
the logged-model records kept so far as run tags ``aml.mlflow.loggedModel.<id>`` move to their table, so the
studio and v1's run.get_tags() no longer show them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_PREFIX = "aml.mlflow.loggedModel."


def upgrade() -> None:
    op.create_table('mlflow_logged_models',
    sa.Column('model_id', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=320), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id')
    )
    op.create_index('ix_mlflow_logged_models_run', 'mlflow_logged_models', ['run_id'], unique=False)
    op.create_table('mlflow_run_inputs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=320), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('digest', sa.String(length=36), nullable=False),
    sa.Column('source_type', sa.String(length=255), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('dataset_schema', sa.Text(), nullable=True),
    sa.Column('profile', sa.Text(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'kind', 'name', 'digest', name='uq_mlflow_run_inputs')
    )
    op.create_index('ix_mlflow_run_inputs_run', 'mlflow_run_inputs', ['run_id'], unique=False)
    op.create_table('mlflow_traces',
    sa.Column('trace_id', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=320), nullable=True),
    sa.Column('request_time', sa.BigInteger(), nullable=False),
    sa.Column('execution_duration', sa.BigInteger(), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('info', sa.JSON(), nullable=False),
    sa.Column('data', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trace_id')
    )
    op.create_index('ix_mlflow_traces_experiment', 'mlflow_traces', ['experiment_id', 'request_time'], unique=False)
    op.create_index('ix_mlflow_traces_run', 'mlflow_traces', ['run_id'], unique=False)
    start = len(_PREFIX) + 1
    op.execute(sa.text(
        "INSERT INTO mlflow_logged_models (model_id, run_id, data) "
        f"SELECT substr(key, {start}), run_id, value FROM run_tags WHERE key LIKE :prefix"
    ).bindparams(prefix=_PREFIX + "%"))
    op.execute(sa.text("DELETE FROM run_tags WHERE key LIKE :prefix").bindparams(prefix=_PREFIX + "%"))


def downgrade() -> None:
    op.execute(sa.text(
        "INSERT INTO run_tags (run_id, key, value) SELECT run_id, :prefix || model_id, data FROM mlflow_logged_models"
    ).bindparams(prefix=_PREFIX))
    op.drop_index('ix_mlflow_traces_run', table_name='mlflow_traces')
    op.drop_index('ix_mlflow_traces_experiment', table_name='mlflow_traces')
    op.drop_table('mlflow_traces')
    op.drop_index('ix_mlflow_run_inputs_run', table_name='mlflow_run_inputs')
    op.drop_table('mlflow_run_inputs')
    op.drop_index('ix_mlflow_logged_models_run', table_name='mlflow_logged_models')
    op.drop_table('mlflow_logged_models')
