"""runs: children are numbered under their parent (#4.1, #4.2) and top-level runs without gaps (#1, #2, #3)

Each run gets ``display_number`` (its number as shown: "4" or "4.1.2") and ``child_count`` (the numbers
handed to its children so far). Existing rows are backfilled: a top-level run keeps its number (so a
bookmarked "#4" still names the same run, gaps of the old scheme included), and the experiment's counter
resumes after the highest top-level number, so new runs follow without gaps. A child is renumbered by its
place among its siblings (creation order), under its parent's display number; its old number, taken from the
top-level sequence, had no meaning of its own.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs') as batch:
        batch.add_column(sa.Column('display_number', sa.String(length=255), nullable=False,
                                   server_default=sa.text("''")))
        batch.add_column(sa.Column('child_count', sa.Integer(), nullable=False, server_default=sa.text('0')))
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    runs = sa.table('runs', sa.column('id', sa.String), sa.column('experiment_id', sa.Integer),
                    sa.column('parent_id', sa.String), sa.column('number', sa.Integer),
                    sa.column('created_at', sa.DateTime), sa.column('display_number', sa.String),
                    sa.column('child_count', sa.Integer))
    experiments = sa.table('experiments', sa.column('id', sa.Integer), sa.column('run_count', sa.Integer))
    rows = conn.execute(sa.select(runs.c.id, runs.c.experiment_id, runs.c.parent_id, runs.c.number)
                        .order_by(runs.c.created_at, runs.c.number, runs.c.id)).all()
    children: dict[str | None, list[str]] = defaultdict(list)
    number = {}
    highest: dict[int, int] = defaultdict(int)
    for run_id, experiment_id, parent_id, old in rows:
        children[parent_id].append(run_id)
        number[run_id] = old
        if parent_id is None:
            highest[experiment_id] = max(highest[experiment_id], old)
    known = set(number)
    # a child whose parent row is missing is shown as top-level (its old number), as the listing would
    stack = [(run_id, str(number[run_id])) for run_id in children[None]]
    stack += [(run_id, str(number[run_id])) for parent, ids in children.items()
              if parent is not None and parent not in known for run_id in ids]
    while stack:
        run_id, shown = stack.pop()
        kids = children.get(run_id, [])
        conn.execute(runs.update().where(runs.c.id == run_id).values(display_number=shown, child_count=len(kids)))
        for index, kid in enumerate(kids, start=1):
            conn.execute(runs.update().where(runs.c.id == kid).values(number=index))
            stack.append((kid, f"{shown}.{index}"))
    for experiment_id, top in highest.items():
        conn.execute(experiments.update().where(experiments.c.id == experiment_id).values(run_count=top))


def downgrade() -> None:
    with op.batch_alter_table('runs') as batch:
        batch.drop_column('child_count')
        batch.drop_column('display_number')
