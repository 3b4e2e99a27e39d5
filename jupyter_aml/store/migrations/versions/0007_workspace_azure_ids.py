"""workspace azure ids: subscription_id, resource_group and location kept as labels (v1's config.json)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # existing workspaces have none: NULL (shown as location "local")
    with op.batch_alter_table('workspaces') as batch:
        batch.add_column(sa.Column('subscription_id', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('resource_group', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('location', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('workspaces') as batch:
        batch.drop_column('location')
        batch.drop_column('resource_group')
        batch.drop_column('subscription_id')
