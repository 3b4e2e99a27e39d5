"""experiments: tags and the archived state (v1's Experiment.set_tags / archive / reactivate)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # existing experiments get no tags; the default fills their rows (SQLite and PostgreSQL alike)
    with op.batch_alter_table('experiments') as batch:
        batch.add_column(sa.Column('tags', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('experiments') as batch:
        batch.drop_column('archived_at')
        batch.drop_column('tags')
