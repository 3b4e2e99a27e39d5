"""Run queries: the one paged run listing (filters, sorts, opaque page tokens), children and subtrees.

The REST listing, the CLI, the magics and the studio all page through ``RunQueries.find``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, and_, exists, func, select

from jupyter_aml import statuses as run_statuses
from jupyter_aml.core import models
from jupyter_aml.core.numbers import MAX_OFFSET, parse_int
from jupyter_aml.core.run_views import RunReader
from jupyter_aml.core.workspaces import WorkspaceService
from jupyter_aml.errors import InvalidInput
from jupyter_aml.store.tables import MetricSeriesRow, RunPropertyRow, RunRow, RunTagRow

SORTS = {"created_at", "start_time", "duration", "status", "number", "display_name"}
MAX_PAGE = 500


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset a page token stands for; a token not made by ``encode_page_token`` is bad input."""
    if not token:
        return 0
    try:
        kind, value = base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)
        if kind != "o":
            raise ValueError
        return parse_int(value, "page_token offset", minimum=0, maximum=MAX_OFFSET)
    except (ValueError, UnicodeDecodeError, InvalidInput):
        raise InvalidInput(f"page_token {token!r} is not valid", hint="pass next_page_token as returned") from None


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
    ) -> models.RunPage:
        if not 1 <= page_size <= MAX_PAGE:
            raise InvalidInput(f"page_size {page_size} is out of range", hint=f"use 1..{MAX_PAGE}")
        offset = decode_page_token(page_token)
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            conds: list[Any] = [RunRow.workspace_id == ws.id]
            if experiment:
                conds.append(
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
                conds.append(RunRow.status.in_(wanted))
            for table, specs, what in ((RunTagRow, tags, "tag"), (RunPropertyRow, properties, "property")):
                for spec in specs:
                    key, value = _kv(spec, what)
                    match = and_(table.run_id == RunRow.id, table.key == key)
                    if value is not None:
                        match = and_(match, table.value == value)
                    conds.append(exists().where(match))
            if parent_id:
                conds.append(RunRow.parent_id == parent_id)
            elif root_only:
                conds.append(RunRow.parent_id.is_(None))
            query: Select[Any] = select(RunRow).where(*conds)
            query = self._order(query, sort)
            total = s.scalar(select(func.count()).select_from(RunRow).where(*conds)) or 0
            rows = list(s.scalars(query.offset(offset).limit(page_size)))
            next_token = _next_token(offset, page_size, total)
            return models.RunPage(items=self.to_models(s, rows), next_page_token=next_token, total=total)

    @staticmethod
    def _order(query: Select[Any], sort: str) -> Select[Any]:
        desc = sort.startswith("-")
        key = sort.lstrip("-")
        if key.startswith("metric:"):
            name = key.split(":", 1)[1]
            series = (
                select(MetricSeriesRow.last_value)
                .where(MetricSeriesRow.run_id == RunRow.id, MetricSeriesRow.name == name)
                .scalar_subquery()
            )
            column: Any = series
        elif key in SORTS:
            column = {"duration": RunRow.duration_seconds}.get(key, getattr(RunRow, key, None))
        else:
            raise InvalidInput(
                f"sort {sort!r} is not supported",
                hint="use created_at, start_time, duration, status, number or metric:NAME, with '-' for descending",
            )
        ordered = column.desc() if desc else column.asc()
        return query.order_by(ordered.nulls_last(), RunRow.id.desc() if desc else RunRow.id.asc())

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


def _next_token(offset: int, page_size: int, total: int) -> str | None:
    return encode_page_token(offset + page_size) if offset + page_size < total else None
