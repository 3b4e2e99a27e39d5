"""``Experiment``: a named group of runs; submitting creates it on first use."""

from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput
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

        if not isinstance(config, ScriptRunConfig):
            raise InvalidInput(f"submit() takes a ScriptRunConfig, not {type(config).__name__}")
        ws_path = self.workspace._path()
        computes = self.workspace.compute_targets
        if config.compute_target not in computes:
            raise InvalidInput(
                f"compute target {config.compute_target!r} does not exist",
                hint="available compute targets: " + ", ".join(sorted(computes)),
            )
        upload = upload_snapshot(
            self.workspace._client, ws_path, config.source_directory, script=config.script, progress=progress
        )
        body = {
            "experiment": self.name,
            "kind": "script",
            "snapshot_id": upload.snapshot_id,
            "run_config": config.run_config(),
            "tags": {k: str(v) for k, v in (tags or {}).items()},
            "properties": {k: str(v) for k, v in (properties or {}).items()},
            "git": git_info(config.source_directory),
            "display_name": display_name,
        }
        details = self.workspace._client.post(self.workspace._path("runs"), body)
        run = Run(self, details["id"], _details=details)
        run._upload = upload  # type: ignore[attr-defined]
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

        body: dict[str, Any] = {
            "experiment": self.name,
            "kind": "interactive",
            "display_name": display_name,
            "tags": {k: str(v) for k, v in kwargs.get("tags", {}).items()},
        }
        if snapshot_directory is not None:
            body["snapshot_id"] = upload_snapshot(
                self.workspace._client, self.workspace._path(), snapshot_directory, progress=False
            ).snapshot_id
            body["git"] = git_info(snapshot_directory)
        details = self.workspace._client.post(self.workspace._path("runs"), body)
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
        params: builtins.list[tuple[str, str]] = [("experiment", self.name), ("page_size", "500")]
        if isinstance(tags, str):
            params.append(("tag", tags))
        else:
            params += [("tag", f"{k}={v}") for k, v in (tags or {}).items()]
        params += [("property", f"{k}={v}") for k, v in (properties or {}).items()]
        if not include_children:
            params.append(("root_only", "true"))
        runs: builtins.list[Run] = []
        token = None
        while True:
            page = self.workspace._client.get(
                self.workspace._path("runs"), params=params + ([("page_token", token)] if token else [])
            )
            runs += [Run(self, r["id"], _details=r) for r in page["items"]]
            token = page.get("next_page_token")
            if not token:
                return runs

    def __repr__(self) -> str:
        return f"Experiment(workspace={self.workspace.name!r}, name={self.name!r})"
