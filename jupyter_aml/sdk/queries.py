"""Workspace-level reads the faces (CLI, magics, widgets) need, so they never reach into the transport.

Paged run listing is written here once: ``list_runs`` is one page, ``iter_runs`` walks all of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import Api

if TYPE_CHECKING:
    from jupyter_aml.sdk.run import Run

MAX_PAGE_SIZE = 500
Filter = Mapping[str, Any] | Sequence[str] | str | None


def filter_terms(value: Filter) -> list[str] | None:
    """``{"k": "v"}``, ``["k", "k=v"]`` or ``"k=v"`` -> the REST ``key`` / ``key=value`` terms."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [f"{k}={v}" for k, v in value.items()]
    return [str(v) for v in value]


@dataclass
class RunPage:
    """One page of ``Workspace.list_runs``: pass ``next_page_token`` back for the next page."""

    items: list[Run]
    next_page_token: str | None
    total: int | None
    records: list[T.Run] = field(default_factory=list, repr=False)  # the REST records, as served


@dataclass(frozen=True)
class ExperimentSummary:
    name: str
    run_count: int
    created_at: str | None
    archived_time: str | None = None  # set while archived (listed only with view_type ArchivedOnly or All)
    child_run_count: int = 0  # runs under the top-level ones ``run_count`` counts (sweep trials, pipeline steps)


class WorkspaceQueries:
    """Mixed into ``Workspace``: needs ``name`` and ``_api``."""

    name: str
    _api: Api

    def list_runs(
        self,
        experiment: str | None = None,
        *,
        status: str | Sequence[str] | None = None,
        tags: Filter = None,
        properties: Filter = None,
        parent_id: str | None = None,
        order_by: str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
        include_children: bool = False,
    ) -> RunPage:
        """One page of runs, newest first unless ``order_by`` says otherwise.

        ``order_by``: created_at, start_time, duration, status, number or ``metric:NAME``; a leading ``-``
        sorts descending. ``tags``/``properties`` match ``key`` or ``key=value``. Child runs are left out
        unless ``include_children`` (or ``parent_id``) asks for them."""
        from jupyter_aml.sdk.experiment import Experiment
        from jupyter_aml.sdk.run import Run

        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidInput(f"page_size {page_size} is out of range", hint=f"use 1..{MAX_PAGE_SIZE}")
        statuses = [status] if isinstance(status, str) else (list(status) if status else None)
        page = self._api.list_runs(
            self.name,
            experiment=experiment,
            status=statuses,
            tag=filter_terms(tags),
            property=filter_terms(properties),
            parent_id=parent_id,
            root_only=None if include_children or parent_id else True,
            sort=order_by,
            page_size=page_size,
            page_token=page_token,
        )
        experiments: dict[str, Experiment] = {}
        items = []
        for record in page["items"]:
            exp = experiments.setdefault(record["experiment"], Experiment(self, record["experiment"]))  # type: ignore[arg-type]
            items.append(Run._of(exp, record))
        return RunPage(items=items, next_page_token=page.get("next_page_token"), total=page.get("total"),
                       records=list(page["items"]))

    def iter_run_pages(self, experiment: str | None = None, *, limit: int | None = None,
                       page_size: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[RunPage]:
        """The pages of ``list_runs`` one after another, holding at most ``limit`` runs in all; the last
        page's ``next_page_token`` says whether more runs match."""
        token: str | None = None
        seen = 0
        while limit is None or seen < limit:
            size = page_size if limit is None else max(1, min(page_size, limit - seen))
            page = self.list_runs(experiment, page_size=size, page_token=token, **filters)
            seen += len(page.items)
            yield page
            token = page.next_page_token
            if not token or not page.items:
                return

    def iter_runs(self, experiment: str | None = None, *, limit: int | None = None, page_size: int = MAX_PAGE_SIZE,
                  **filters: Any) -> Iterator[Run]:
        """Every matching run across pages (at most ``limit``); the filters are those of ``list_runs``."""
        for page in self.iter_run_pages(experiment, limit=limit, page_size=page_size, **filters):
            yield from page.items

    def get_run(self, run_id: str) -> Run:
        """The run with this id (any experiment of the workspace)."""
        from jupyter_aml.sdk.experiment import Experiment
        from jupyter_aml.sdk.run import Run

        record = self._api.get_run(self.name, run_id)
        return Run._of(Experiment(self, record["experiment"]), record)  # type: ignore[arg-type]

    def list_experiment_summaries(self, view_type: str | None = None) -> list[ExperimentSummary]:
        """Each experiment with its run count and creation time (``Workspace.experiments`` has names only);
        ``view_type`` is v1's (``ActiveOnly``, the default, ``ArchivedOnly`` or ``All``)."""
        return [ExperimentSummary(e["name"], int(e.get("run_count") or 0), e.get("created_at"),
                                  e.get("archived_time"), int(e.get("child_run_count") or 0))
                for e in self._api.list_experiments(self.name, view_type=view_type)["items"]]

    def list_environments(self, name: str | None = None, *, latest: bool | None = None
                          ) -> list[T.RegisteredEnvironment]:
        """Registered environments: the latest version of each, or every version of ``name``."""
        if latest is None:
            latest = name is None
        return list(self._api.list_environments(self.name, name=name, latest=latest or None)["items"])

    def get_snapshot_info(self, snapshot_id: str) -> T.Snapshot:
        """A snapshot's id, file count and total size."""
        return self._api.get_snapshot(self.name, snapshot_id)

    def download_snapshot(self, snapshot_id: str, target_path: str | os.PathLike[str]) -> Path:
        """The snapshot as a zip at ``target_path`` (a folder gets ``snapshot-ID.zip`` inside it)."""
        target = Path(target_path)
        if target.is_dir():
            target = target / f"snapshot-{snapshot_id[:12]}.zip"
        target.parent.mkdir(parents=True, exist_ok=True)
        self._api.download_snapshot_zip(self.name, snapshot_id, target)
        return target
