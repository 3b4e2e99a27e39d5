"""``Experiment``: a named group of runs; submitting creates it on first use."""

from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING, Any, cast

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.config import ScriptRunConfig
from jupyter_aml.sdk.run import Run

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace


class Experiment:
    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = name

    @classmethod
    def list(cls, workspace: Workspace) -> list[Experiment]:
        return list(workspace.experiments.values())

    def submit(
        self,
        config: ScriptRunConfig,
        tags: dict[str, Any] | None = None,
        *,
        display_name: str = "",
        properties: dict[str, Any] | None = None,
        progress: bool = True,
    ) -> Run:
        """Snapshot ``config.source_directory``, record git info, and queue the run on its compute target."""
        from jupyter_aml.sdk.submit import git_info, upload_snapshot

        own_submit = getattr(config, "_submit", None)  # v1's configs submit themselves (HyperDriveConfig)
        if not isinstance(config, ScriptRunConfig) and callable(own_submit):
            run: Run = own_submit(self, tags, display_name=display_name, properties=properties, progress=progress)
            return run
        if not isinstance(config, ScriptRunConfig):
            raise InvalidInput(f"submit() takes a ScriptRunConfig, not {type(config).__name__}")
        computes = self.workspace.compute_targets
        if config.compute_target not in computes:
            raise InvalidInput(
                f"compute target {config.compute_target!r} does not exist",
                hint="available compute targets: " + ", ".join(sorted(computes)),
            )
        upload = upload_snapshot(
            self.workspace._api, self.workspace.name, config.source_directory, script=config.script,
            progress=progress,
        )
        body: T.RunCreate = {
            "experiment": self.name,
            "kind": "script",
            "snapshot_id": upload.snapshot_id,
            "run_config": cast(T.RunConfig, config.run_config()),
            "tags": {k: str(v) for k, v in (tags or {}).items()},
            "properties": {k: str(v) for k, v in (properties or {}).items()},
            "git": cast("T.GitInfo | None", git_info(config.source_directory)),
            "display_name": display_name,
        }
        details = self.workspace._api.create_run(self.workspace.name, body)
        run = Run(self, details["id"], _details=details)
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
    ) -> builtins.list[Run]:
        """Every run of the experiment, newest first (``type`` is accepted for Azure and ignored)."""
        return builtins.list(self.workspace.iter_runs(self.name, tags=tags, properties=properties,
                                                      include_children=include_children))

    def __repr__(self) -> str:
        return f"Experiment(workspace={self.workspace.name!r}, name={self.name!r})"
