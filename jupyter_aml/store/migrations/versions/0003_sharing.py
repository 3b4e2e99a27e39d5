"""sharing: workspace members, custom roles, the append-only activity log, named user tokens; room for
sealed web-service keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_APPEND_ONLY = "the activity log is append-only"


def upgrade() -> None:
    op.create_table('workspace_members',
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('user', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.Column('added_by', sa.String(length=255), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', 'user')
    )
    op.create_table('workspace_roles',
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('not_actions', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=255), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', 'name')
    )
    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('workspace', sa.String(length=64), nullable=True),
    sa.Column('user', sa.String(length=320), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_kind', sa.String(length=32), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_activity_workspace', 'activity', ['workspace', 'id'], unique=False)
    op.create_table('user_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user', sa.String(length=255), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_sha256')
    )
    # web-service keys are sealed at rest (core/service_keys.py): room for the ciphertext
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        for column in ('primary_key', 'secondary_key'):
            batch_op.alter_column(column, existing_type=sa.String(length=128), type_=sa.String(length=512),
                                  existing_nullable=False)
    # append-only: the database itself refuses to change or remove an activity record
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""CREATE FUNCTION activity_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END; $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER activity_append_only BEFORE UPDATE OR DELETE ON activity "
                   "FOR EACH ROW EXECUTE FUNCTION activity_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER activity_no_{verb.lower()} BEFORE {verb} ON activity "
                       f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS activity_append_only ON activity")
        op.execute("DROP FUNCTION IF EXISTS activity_append_only()")
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        for column in ('primary_key', 'secondary_key'):
            batch_op.alter_column(column, existing_type=sa.String(length=512), type_=sa.String(length=128),
                                  existing_nullable=False)
    op.drop_table('user_tokens')
    op.drop_index('ix_activity_workspace', table_name='activity')
    op.drop_table('activity')
    op.drop_table('workspace_roles')
    op.drop_table('workspace_members')
