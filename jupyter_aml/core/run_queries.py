"""Run queries: the one paged run listing (filters, sorts, keyset page tokens), children and subtrees.

The REST listing, the CLI, the magics and the studio all page through ``RunQueries.find``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, exists, select

from jupyter_aml import statuses as run_statuses
from jupyter_aml.core import models
from jupyter_aml.core import run_search as rs
from jupyter_aml.core.run_views import RunReader
from jupyter_aml.core.workspaces import WorkspaceService
from jupyter_aml.errors import InvalidInput
from jupyter_aml.store.tables import RunPropertyRow, RunRow, RunTagRow

SORTS = {"created_at", "start_time", "duration", "status", "number", "display_name"}
MAX_PAGE = 500


def _kv(spec: str, what: str) -> tuple[str, str | None]:
    key, sep, value = spec.partition("=")
    if not key:
        raise InvalidInput(f"{what} filter {spec!r} is not valid", hint=f"use {what}=key or {what}=key=value")
    return key, (value if sep else None)


class RunQueries(RunReader):
    def find(
        self,
        workspace: str,
        *,
        experiment: str | None = None,
        statuses: Iterable[str] = (),
        tags: Iterable[str] = (),
        properties: Iterable[str] = (),
        parent_id: str | None = None,
        root_only: bool = False,
        sort: str = "-created_at",
        page_size: int = 50,
        page_token: str | None = None,
        conds: Sequence[rs.Cond] = (),
        order_by: Sequence[rs.Order] = (),
        metric_columns: Sequence[str] = (),
        param_columns: Sequence[str] = (),
    ) -> models.RunPage:
        """A page of runs: the listing's own filters plus ``conds`` (core/run_search.py), ordered by
        ``order_by`` then ``sort``, with the chosen metric summaries and params as columns."""
        if not 1 <= page_size <= MAX_PAGE:
            raise InvalidInput(f"page_size {page_size} is out of range", hint=f"use 1..{MAX_PAGE}")
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            where: list[Any] = [RunRow.workspace_id == ws.id]
            if experiment:
                where.append(
                    RunRow.experiment_id == WorkspaceService.experiment_row(s, ws, experiment, create=False).id
                )
            wanted = list(statuses)
            for status in wanted:
                if status not in run_statuses.RUN_STATUSES:
                    raise InvalidInput(
                        f"status {status!r} is not a run status",
                        hint="use one of " + ", ".join(run_statuses.RUN_STATUSES),
                    )
            if wanted:
                where.append(RunRow.status.in_(wanted))
            for table, specs, what in ((RunTagRow, tags, "tag"), (RunPropertyRow, properties, "property")):
                for spec in specs:
                    key, value = _kv(spec, what)
                    match = and_(table.run_id == RunRow.id, table.key == key)
                    if value is not None:
                        match = and_(match, table.value == value)
                    where.append(exists().where(match))
            if parent_id:
                where.append(RunRow.parent_id == parent_id)
            elif root_only:
                where.append(RunRow.parent_id.is_(None))
            order = [*order_by, _sort_order(sort)]
            page = rs.search(s, where, conds, order, page_size=page_size, cursor=page_token,
                             metric_columns=metric_columns, param_columns=param_columns)
            items = self.to_models(s, page.rows)
            for run in items:
                if metric_columns:
                    run.metric_columns = {
                        k: None if v is None else models.MetricColumn(last=v.last, min=v.min, max=v.max)
                        for k, v in page.metric_columns[run.id].items()
                    }
                if param_columns:
                    run.param_columns = page.param_columns[run.id]
            return models.RunPage(items=items, next_page_token=page.next_cursor, total=page.total or 0)

    def search_page(
        self,
        workspace: str,
        experiment_ids: Iterable[int],
        conds: Sequence[rs.Cond],
        order: Sequence[rs.Order],
        *,
        page_size: int,
        cursor: str | None,
    ) -> tuple[list[models.Run], str | None]:
        """Runs of some experiments (by id, any depth) matching ``conds``: MLflow's runs/search, without a count."""
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            where = [RunRow.workspace_id == ws.id, RunRow.experiment_id.in_(sorted(set(experiment_ids)))]
            page = rs.search(s, where, conds, order, page_size=page_size, cursor=cursor, count=False)
            return self.to_models(s, page.rows), page.next_cursor

    def children(self, workspace: str, run_id: str, *, recursive: bool = False) -> list[models.Run]:
        with self.db.read() as s:
            parent = self.row(s, workspace, run_id)
            cond = RunRow.path.startswith(parent.path) if recursive else RunRow.parent_id == parent.id
            rows = list(
                s.scalars(select(RunRow).where(cond, RunRow.id != parent.id).order_by(RunRow.created_at, RunRow.number))
            )
            return self.to_models(s, rows)

    def in_subtree(self, workspace: str, ancestor_id: str, run_ids: Iterable[str]) -> set[str]:
        """Which of ``run_ids`` are ``ancestor_id`` or its descendants."""
        ids = set(run_ids)
        with self.db.read() as s:
            root = self.row(s, workspace, ancestor_id)
            found = s.scalars(select(RunRow.id).where(RunRow.id.in_(ids), RunRow.path.startswith(root.path)))
            return set(found)


def _sort_order(sort: str) -> rs.Order:
    """The listing's ``sort`` (``-created_at``, ``metric:loss``) as a search order."""
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key.startswith("metric:"):
        return rs.Order(rs.Key("metric", key.split(":", 1)[1]), not desc)
    if key in SORTS:
        return rs.Order(rs.Key("attribute", key), not desc)
    raise InvalidInput(
        f"sort {sort!r} is not supported",
        hint="use created_at, start_time, duration, status, number or metric:NAME, with '-' for descending",
    )
