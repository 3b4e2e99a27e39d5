"""``Experiment``: a named group of runs; submitting creates it on first use."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.config import ScriptRunConfig
from jupyter_aml.sdk.run import Run

if TYPE_CHECKING:
    from collections.abc import Callable

    from jupyter_aml.sdk.submit import SnapshotProgress
    from jupyter_aml.sdk.workspace import Workspace


class ViewType:
    """v1's ``azureml.core.experiment.ViewType``: which experiments ``Experiment.list`` shows."""

    ACTIVE_ONLY = "ActiveOnly"
    ARCHIVED_ONLY = "ArchivedOnly"
    ALL = "All"


class Experiment:
    """A named group of runs in a workspace. As in v1, ``Experiment(ws, name)`` is get-or-create: the record
    is made on first use (a run, or reading ``id`` / ``tags``)."""

    def __init__(self, workspace: Workspace, name: str, **_kwargs: Any) -> None:
        self.workspace = workspace
        self.name = name
        self._record: T.Experiment | None = None

    # -- the experiment's record --------------------------------------------------------------------
    def _get(self, refresh: bool = True) -> T.Experiment:
        if refresh or self._record is None:
            try:
                self._record = self.workspace._api.get_experiment(self.workspace.name, self.name)
            except NotFound:
                self._record = self.workspace._api.ensure_experiment(self.workspace.name, self.name)
        return self._record

    def _set(self, record: T.Experiment) -> None:
        self._record = record
        self.name = record["name"]

    @property
    def id(self) -> str:
        return str(self._get(refresh=False)["id"])

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._get()["tags"] or {})

    @property
    def archived_time(self) -> str | None:
        """When the experiment was archived (ISO 8601, UTC), or None while it is active."""
        return self._get().get("archived_time")

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Add or replace tags (others stay), as v1."""
        self._set(self.workspace._api.ensure_experiment(self.workspace.name, self.name, {"tags": dict(tags)}))

    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: "" if value is None else value})

    def remove_tags(self, tags: builtins.list[str] | str) -> None:
        keys = [tags] if isinstance(tags, str) else builtins.list(tags)
        self._set(self.workspace._api.ensure_experiment(self.workspace.name, self.name, {"remove_tags": keys}))

    def archive(self) -> None:
        """Hide the experiment from ``Experiment.list(ws)`` (its runs stay; ``reactivate()`` undoes it)."""
        self._get(refresh=False)
        self._set(self.workspace._api.archive_experiment(self.workspace.name, self.name))

    def reactivate(self, new_name: str | None = None) -> None:
        """Bring an archived experiment back, under ``new_name`` when given (a name in use is refused)."""
        body: T.ExperimentReactivate = {"new_name": new_name} if new_name else {}
        self._set(self.workspace._api.reactivate_experiment(self.workspace.name, self.name, body))

    @classmethod
    def list(
        cls,
        workspace: Workspace,
        experiment_name: str | None = None,
        view_type: str = ViewType.ACTIVE_ONLY,
        tags: str | dict[str, Any] | None = None,
    ) -> builtins.list[Experiment]:
        """v1's ``Experiment.list``: active experiments by default (``view_type=ViewType.ARCHIVED_ONLY`` or
        ``ALL`` for the others), only ``experiment_name``, only those with the tag ``tags`` (a key, or
        ``{key: value}``)."""
        from jupyter_aml.sdk.queries import filter_terms

        items = workspace._api.list_experiments(workspace.name, view_type=view_type, name=experiment_name,
                                                tag=filter_terms(tags))["items"]
        out = []
        for item in items:
            experiment = cls(workspace, item["name"])
            experiment._record = item
            out.append(experiment)
        return out

    @staticmethod
    def from_directory(path: str | os.PathLike[str], auth: Any = None) -> Experiment:
        """v1's ``Experiment.from_directory``: the experiment a project folder names in its config file
        (``experiment_name`` next to ``workspace_name``, as ``.azureml/config.json`` writes it)."""
        from jupyter_aml.sdk.workspace import Workspace, find_config

        config, where = find_config(Path(path))
        if config is None or not config.get("experiment_name"):
            raise NotFound(f"no experiment_name in a workspace config found from {where} upwards",
                           hint='add "experiment_name" to the folder\'s .azureml/config.json, or use '
                           "Experiment(ws, name)")
        return Experiment(Workspace.from_config(path), str(config["experiment_name"]))

    def submit(
        self,
        config: ScriptRunConfig,
        tags: dict[str, Any] | None = None,
        *,
        display_name: str = "",
        properties: dict[str, Any] | None = None,
        progress: bool | Callable[[SnapshotProgress], None] = True,
        **kwargs: Any,
    ) -> Run:
        """Snapshot ``config.source_directory``, record git info, and queue the run on its compute target.
        ``progress``: a bar for a big upload, False for none, or a callable told each snapshot step. A
        ``Pipeline`` takes v1's options too (``pipeline_parameters=``, ``regenerate_outputs=``, ...)."""
        from jupyter_aml.sdk.submit import forget_snapshot, git_info, upload_snapshot

        own_submit = getattr(config, "_submit", None)  # v1's configs submit themselves (HyperDriveConfig)
        if not isinstance(config, ScriptRunConfig) and callable(own_submit):
            run: Run = own_submit(self, tags, display_name=display_name, properties=properties, progress=progress,
                                  **kwargs)
            return run
        if kwargs:
            raise InvalidInput(f"submit() of a {type(config).__name__} does not take {sorted(kwargs)}")
        if not isinstance(config, ScriptRunConfig):
            raise InvalidInput(f"submit() takes a ScriptRunConfig, not {type(config).__name__}")
        # Checked before the upload, so a mistyped name costs no snapshot; a name already seen to exist is not
        # listed again (a round trip per submit): if it went away since, the service refuses the run just as well.
        known: set[str] = self.workspace.__dict__.setdefault("_known_compute_targets", set())
        if config.compute_target not in known:
            computes = self.workspace.compute_targets
            if config.compute_target not in computes:
                raise InvalidInput(
                    f"compute target {config.compute_target!r} does not exist",
                    hint="available compute targets: " + ", ".join(sorted(computes)),
                )
            known.add(config.compute_target)
        upload = upload_snapshot(
            self.workspace._api, self.workspace.name, config.source_directory, script=config.script,
            progress=progress,
        )
        body: T.RunCreate = {
            "experiment": self.name,
            "kind": "script",
            "snapshot_id": upload.snapshot_id,
            "run_config": cast(T.RunConfig, config.run_config(self.workspace)),
            "tags": {k: str(v) for k, v in (tags or {}).items()},
            "properties": {k: str(v) for k, v in (properties or {}).items()},
            "git": cast("T.GitInfo | None", git_info(config.source_directory)),
            "display_name": display_name,
        }
        try:
            details = self.workspace._api.create_run(self.workspace.name, body)
        except NotFound:  # a snapshot remembered from an earlier submit is gone: upload it again, once
            if not forget_snapshot(self.workspace._api, self.workspace.name, upload.snapshot_id):
                raise
            upload = upload_snapshot(self.workspace._api, self.workspace.name, config.source_directory,
                                     script=config.script, progress=progress)
            body["snapshot_id"] = upload.snapshot_id
            details = self.workspace._api.create_run(self.workspace.name, body)
        run = Run._of(self, details, directory=str(config.source_directory), _run_config=config)
        run.snapshot_upload = upload
        return run

    def start_logging(
        self,
        *args: Any,
        snapshot_directory: str | os.PathLike[str] | None = None,
        display_name: str = "",
        outputs: str | None = None,
        **kwargs: Any,
    ) -> Run:
        """An interactive run (e.g. from a notebook): log into it, then ``run.complete()``."""
        from jupyter_aml.sdk.interactive import attach_shipper
        from jupyter_aml.sdk.submit import git_info, upload_snapshot

        body: T.RunCreate = {
            "experiment": self.name,
            "kind": "interactive",
            "display_name": display_name,
            "tags": {k: str(v) for k, v in kwargs.get("tags", {}).items()},
        }
        if snapshot_directory is not None:
            body["snapshot_id"] = upload_snapshot(
                self.workspace._api, self.workspace.name, snapshot_directory, progress=False
            ).snapshot_id
            body["git"] = cast("T.GitInfo | None", git_info(snapshot_directory))
        details = self.workspace._api.create_run(self.workspace.name, body)
        run = Run(self, details["id"], _details=details)
        attach_shipper(run)
        return run

    def get_runs(
        self,
        type: str | None = None,
        tags: dict[str, str] | str | None = None,
        properties: dict[str, str] | None = None,
        include_children: bool = False,
    ) -> Iterator[Run]:
        """Every run of the experiment, newest first, as a generator as in v1 (``next(exp.get_runs())`` is the
        latest; pages are read as it goes). ``type`` is a v1 run type (``azureml.scriptrun``, ...), ``tags`` /
        ``properties`` a key or ``{key: value}``."""
        return Run.list(self, type=type, tags=tags, properties=properties, include_children=include_children)

    def __repr__(self) -> str:
        return f"Experiment(workspace={self.workspace.name!r}, name={self.name!r})"
