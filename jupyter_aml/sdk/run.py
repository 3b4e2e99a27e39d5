"""``Run``: one execution of a script, with Azure ML v1's method names.

Inside a submitted run, ``Run.get_context()`` returns the live run: ``log*`` calls append to the run's
local journal (microseconds, no network on the training thread) and the run agent ships the journal.
Outside any run it returns an offline run that prints what it would log.

The class is put together from parts by what they do: ``run_metrics`` (logging and metric reads),
``run_files`` (uploads, downloads, snapshot, models) and ``run_watch`` (logs, waiting, ``watch()``).
This module holds identity, details, tags, children and the run's lifecycle.
"""

from __future__ import annotations

import builtins
import os
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from jupyter_aml.errors import NotFound, UserError
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.env import RunContextInfo
from jupyter_aml.sdk.run_files import RunFiles
from jupyter_aml.sdk.run_metrics import RunCanceledError, RunMetrics, rows_to_table
from jupyter_aml.sdk.run_watch import ActivityFailedError, RunWatch

if TYPE_CHECKING:
    from jupyter_aml.runtime.journal import JournalWriter
    from jupyter_aml.sdk.experiment import Experiment
    from jupyter_aml.sdk.run_base import Shipper
    from jupyter_aml.sdk.submit import UploadResult

__all__ = ["ActivityFailedError", "ActivityFailedException", "Run", "RunCanceledError", "RunEnvironmentException",
           "rows_to_table"]

ActivityFailedException = ActivityFailedError

# v1's run types (Run.type) by the service's run kind; a kind not listed reports itself
RUNSOURCE = "azureml.runsource"  # v1's property naming what made a run, e.g. "hyperdrive"
RUN_TYPES = {"script": "azureml.scriptrun", "child": "azureml.scriptrun", "interactive": "interactive",
             "hyperdrive": "hyperdrive", "step": "azureml.StepRun", "pipeline": "azureml.PipelineRun"}


class RunEnvironmentException(UserError):
    """``Run.get_context(allow_offline=False)`` outside a submitted run (v1's name and words)."""

    code = "RunEnvironment"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message or "Failed to load a submitted run, if outside of an execution context, use "
                         "experiment.start_logging to initialize an azureml.core.Run.",
                         hint=kwargs.pop("hint", "submit the script with Experiment.submit(), or pass "
                                         "allow_offline=True for an offline run that prints what it logs"),
                         **kwargs)


class Run(RunMetrics, RunFiles, RunWatch):
    _context: Run | None = None
    # the class a record of this kind comes back as (ScriptRun registers "script"; others may add theirs)
    _classes: ClassVar[dict[str, type[Run]]] = {}
    snapshot_upload: UploadResult | None = None  # set by Experiment.submit: what the snapshot upload sent

    def __init__(
        self,
        experiment: Experiment,
        run_id: str,
        *,
        _details: T.Run | dict[str, Any] | None = None,
        _journal: JournalWriter | None = None,
    ) -> None:
        self.experiment = experiment
        self.id = run_id
        self._details = _details
        self._journal = _journal
        self._shipper: Shipper | None = None  # interactive runs ship their own journal

    # -- context ----------------------------------------------------------------------------------
    @classmethod
    def get_context(cls, allow_offline: bool = True, **_: Any) -> Run:
        if cls._context is not None:
            return cls._context
        ctx = RunContextInfo.from_environ()
        if ctx is None:
            if not allow_offline:
                raise RunEnvironmentException()
            from jupyter_aml.sdk.offline import OfflineRun

            cls._context = OfflineRun()
            return cls._context
        from jupyter_aml.runtime.http import ServiceClient
        from jupyter_aml.runtime.journal import get_journal
        from jupyter_aml.sdk.experiment import Experiment
        from jupyter_aml.sdk.workspace import Workspace

        if os.environ.get("WORLD_SIZE", "1") not in ("", "1"):  # a rank of a distributed run
            from jupyter_aml.sdk.process_group import close_gloo_group_at_exit

            close_gloo_group_at_exit()
        client = ServiceClient(ctx.service_url, ctx.token, retry=5)
        ws = Workspace._in_run(ctx.workspace, client)
        journal = get_journal(ctx.journal) if ctx.journal else None
        cls._context = cls(Experiment(ws, ctx.experiment), ctx.run_id, _journal=journal)
        return cls._context

    @classmethod
    def get_submitted_run(cls, **kwargs: Any) -> Run:
        """v1's deprecated name for ``get_context()``."""
        warnings.warn("Run.get_submitted_run() is deprecated; use Run.get_context()", DeprecationWarning,
                      stacklevel=2)
        return cls.get_context(**kwargs)

    @classmethod
    def _of(cls, experiment: Experiment, record: T.Run, **kwargs: Any) -> Run:
        """The run of this REST record as the class its kind has (``ScriptRun`` for submitted scripts)."""
        import jupyter_aml.sdk.script_run  # noqa: F401 - registers ScriptRun

        klass = Run._classes.get(record["kind"], Run)
        if (record.get("properties") or {}).get(RUNSOURCE) == "hyperdrive":  # a sweep's parent (sdk/hyperdrive)
            from jupyter_aml.sdk.hyperdrive.run import HyperDriveRun

            klass = HyperDriveRun
        return klass(experiment, record["id"], _details=record, **kwargs)

    # -- identity ---------------------------------------------------------------------------------
    @property
    def number(self) -> int:
        return int(self._info["number"])

    @property
    def display_name(self) -> str:
        return str(self._info["display_name"])

    @display_name.setter
    def display_name(self, value: str) -> None:
        self._details = self._api.update_run(self._ws, self.id, {"display_name": str(value)})

    @property
    def name(self) -> str:
        """v1's ``Run.name``: the run's name, which here is its display name."""
        return self.display_name

    @property
    def description(self) -> str:
        return str(self._info.get("description") or "")

    @description.setter
    def description(self, value: str) -> None:
        self._details = self._api.update_run(self._ws, self.id, {"description": str(value)})

    @property
    def type(self) -> str:
        """v1's run type: ``azureml.scriptrun`` for a submitted script (and its child runs), ``hyperdrive`` ..."""
        info = self._info
        source = (info.get("properties") or {}).get(RUNSOURCE)  # set by runs that stand for v1's (HyperDrive)
        kind = str(info.get("kind") or "")  # an offline run has none
        return str(source) if source else RUN_TYPES.get(kind, kind)

    @property
    def status(self) -> str:
        return self.get_status()

    @property
    def parent(self) -> Run | None:
        parent_id = self._info.get("parent_id")
        return Run(self.experiment, parent_id) if parent_id else None

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._refresh()["tags"])

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._refresh()["properties"])

    def get_status(self) -> str:
        return str(self._refresh()["status"])

    def get_record(self, refresh: bool = False) -> T.Run:
        """The run's REST record, as the service serves it (cached from the last read unless ``refresh``)."""
        if refresh or self._details is None:
            self._refresh()
        return self._details  # type: ignore[return-value]

    def get_details(self) -> dict[str, Any]:
        """Azure v1 shaped details (runId, target, status, times, properties, runDefinition), plus the
        rest of the record the CLI shows (number, name, description, kind, exit code, times)."""
        d = self._refresh()
        return {
            "runId": d["id"],
            "target": d.get("compute_target"),
            "status": d["status"],
            "startTimeUtc": d.get("start_time"),
            "endTimeUtc": d.get("end_time"),
            "durationSeconds": d.get("duration_seconds"),
            "submittedBy": d.get("submitter"),
            "properties": d.get("properties", {}),
            "tags": d.get("tags", {}),
            "runDefinition": d.get("run_config"),
            "inputDatasets": [],  # datasets are not part of this service: no run has inputs or outputs of them
            "outputDatasets": [],
            "logFiles": self._log_file_urls() if self.experiment is not None else {},  # offline: none
            "snapshotId": d.get("snapshot_id"),
            "git": d.get("git"),
            "error": _v1_error(d.get("error")),
            "parentRunId": d.get("parent_id"),
            "experiment": d.get("experiment"),
            "workspace": d.get("workspace"),
            "number": d.get("number"),
            "displayName": d.get("display_name"),
            "description": d.get("description"),
            "kind": d.get("kind"),
            "createdTimeUtc": d.get("created_at"),
            "heartbeatTimeUtc": d.get("heartbeat_at"),
            "exitCode": d.get("exit_code"),
            "rootRunId": d.get("root_id"),
            "warnings": _warnings(d.get("properties") or {}),
        }

    def get_environment(self) -> Any:
        """The ``Environment`` the run used, rebuilt from its run definition."""
        from jupyter_aml.sdk.environment import Environment

        config = self._refresh().get("run_config")
        if not config:
            raise NotFound(f"run {self.id!r} has no environment: it was not submitted with a run configuration",
                           hint="interactive runs (start_logging) use the notebook's own environment")
        return Environment.from_spec(dict(config.get("environment") or {}))

    def get_tags(self) -> dict[str, str]:
        return self.tags

    def get_properties(self) -> dict[str, str]:
        return self.properties

    # -- tags and properties ----------------------------------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: "" if value is None else value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        self._details = self._api.update_run(self._ws, self.id, {"tags": {k: str(v) for k, v in tags.items()}})

    def remove_tags(self, keys: builtins.list[str]) -> None:
        self._details = self._api.update_run(self._ws, self.id, {"remove_tags": list(keys)})

    def add_properties(self, properties: dict[str, Any]) -> None:
        body: T.RunUpdate = {"properties": {k: str(v) for k, v in properties.items()}}
        self._details = self._api.update_run(self._ws, self.id, body)

    # -- children ------------------------------------------------------------------------------------
    def child_run(self, name: str | None = None, run_id: str | None = None, outputs: str | None = None) -> Run:
        item = self._api.create_children(self._ws, self.id, {"display_name": name or ""})["items"][0]
        child = Run(self.experiment, item["id"], _details=item, _journal=self._journal)
        child._shipper = self._shipper
        return child

    def create_children(
        self, count: int | None = None, tag_key: str | None = None, tag_values: builtins.list[str] | None = None
    ) -> builtins.list[Run]:
        if tag_values is not None:
            runs = [self.child_run() for _ in tag_values]
            for run, value in zip(runs, tag_values, strict=True):
                run.tag(tag_key or "tag", value)
            return runs
        items = self._api.create_children(self._ws, self.id, {"count": int(count or 1)})["items"]
        return [self._child(i) for i in items]

    def get_children(self, recursive: bool = False) -> builtins.list[Run]:
        return [self._child(i) for i in self._api.list_children(self._ws, self.id, recursive=recursive)["items"]]

    def _child(self, record: T.Run) -> Run:
        child = Run._of(self.experiment, record, _journal=self._journal)
        child._shipper = self._shipper
        return child

    # -- lifecycle ------------------------------------------------------------------------------------
    def _set_status(self, status: T.RunStatus, error: T.RunError | None = None) -> None:
        shipper = self._shipper
        if shipper is not None and shipper.ended:
            return  # canceled elsewhere: the service keeps that final status
        body: T.StatusUpdate = {"status": status}
        if error:
            body["error"] = error
        if shipper is not None and shipper.run_id == self.id and status != "Running":
            # the last flush rides with the status: one request (the session then ends)
            def report(journal: T.JournalBatch | None) -> T.Run:
                return self._api.set_status(self._ws, self.id, {**body, "journal": journal} if journal else body)

            self._details = shipper.finish(report)
            return
        self.flush()
        self._details = self._api.set_status(self._ws, self.id, body)
        if shipper is not None and shipper.run_id == self.id:
            shipper.stop()

    def start(self) -> None:
        self._set_status("Running")

    def complete(self, _set_status: bool = True) -> None:
        self._set_status("Completed")

    def fail(self, error_details: Any = None, error_code: str | None = None, _set_status: bool = True) -> None:
        message = str(error_details) if error_details is not None else "the run was marked failed"
        self._set_status("Failed", {"message": message, "details": error_code})

    def cancel(self) -> None:
        shipper = self._shipper
        if shipper is not None and shipper.ended:
            return
        self.flush()
        self._details = self._api.cancel_run(self._ws, self.id)
        if shipper is not None and shipper.run_id == self.id:
            shipper.stop()  # an interactive run canceled from its own notebook: the session ends here

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.complete()
        else:
            self.fail(error_details=f"{exc_type.__name__}: {exc}")

    @classmethod
    def get(cls, workspace: Any, run_id: str) -> Run:
        """``Run.get(ws, run_id)`` as in Azure ML v1."""
        run: Run = workspace.get_run(run_id)
        return run

    @staticmethod
    def list(
        experiment: Experiment,
        type: str | None = None,
        tags: str | dict[str, Any] | None = None,
        properties: str | dict[str, Any] | None = None,
        status: str | None = None,
        include_children: bool = False,
        _rehydrate_runs: bool = True,
    ) -> Iterator[Run]:
        """v1's ``Run.list``: the experiment's runs, newest first, as a generator. ``tags`` and ``properties``
        are a key (``"stage"``) or ``{key: value}``; ``type`` is a v1 run type (``azureml.scriptrun``, ...)."""
        runs = experiment.workspace.iter_runs(experiment.name, status=status, tags=tags, properties=properties,
                                              include_children=include_children)
        return (run for run in runs if type is None or run.type == type)

    # -- secrets (the workspace's key vault, read with the run's own token inside a run) ------------------
    def get_secret(self, name: str) -> str:
        """v1's ``run.get_secret(name)``: a secret of the run's workspace, read as this run (its token reaches
        its own workspace's vault only); the read is in the activity log with the run."""
        value = self.get_secrets([name]).get(name)
        if value is None:
            raise NotFound(f"secret {name!r} not found in the key vault of workspace {self._ws!r}",
                           hint=f"set it from a notebook: ws.get_default_keyvault().set_secret({name!r}, value)")
        return value

    def get_secrets(self, secrets: builtins.list[str]) -> dict[str, str | None]:
        """v1's ``run.get_secrets(names)``: name -> value, None for a secret that is not there."""
        from jupyter_aml.sdk.keyvault import _names, values_of

        names = _names(secrets, "get_secrets")
        if not names:
            return {}
        return values_of(self._api.run_secret_values(self._ws, self.id, {"names": names, "missing_ok": True}), names)

    # -- datasets (sdk/dataset_consumption.py) ------------------------------------------------------------
    @property
    def input_datasets(self) -> dict[str, Any]:
        """v1's ``run.input_datasets``: in the script, each input's local folder (``as_mount``/``as_download``)
        or the dataset (``as_named_input``); elsewhere the dataset versions the run read."""
        from jupyter_aml.sdk.dataset_consumption import input_datasets

        return input_datasets(self.experiment.workspace, self.id)

    @property
    def output_datasets(self) -> dict[str, Any]:
        from jupyter_aml.sdk.dataset_consumption import output_datasets

        return output_datasets(self.experiment.workspace, self.id)

    def get_portal_url(self) -> str:
        return f"aml:open-run?run_id={self.id}"

    def __repr__(self) -> str:
        return f"Run(experiment={self.experiment.name!r}, id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


def __getattr__(name: str) -> Any:
    if name == "OfflineRun":  # lives in sdk/offline.py; imported lazily since it subclasses Run
        from jupyter_aml.sdk.offline import OfflineRun

        return OfflineRun
    raise AttributeError(name)


def _warnings(properties: dict[str, str]) -> list[dict[str, str]]:
    """Azure v1's ``warnings`` of run details: here, journal records the service refused to store."""
    count = properties.get("aml.journal.rejected")
    if not count:
        return []
    reason = properties.get("aml.journal.rejected_reason", "")
    return [{"source": "journal", "message": f"{count} logged record(s) were refused and not stored; last: {reason}"}]


def _v1_error(error: Any) -> dict[str, Any] | None:
    """The run's error as v1 gives it: ``message`` (the headline) and ``details`` at the top, and v1's
    ``error`` body (``code``, ``message``, and ``debugInfo`` naming the exception and its last frame)."""
    if not error:
        return None
    out = dict(error)
    body: dict[str, Any] = {"code": error.get("code") or "UserError", "message": error.get("message", "")}
    frame = error.get("frame")
    if error.get("exception_type"):
        body["debugInfo"] = {"type": error["exception_type"], "message": error.get("exception_message") or "",
                             "stackTrace": error.get("details") or ""}
        if frame:
            body["target"] = f"{frame['file']}:{frame['line']} in {frame['function']}"
    out["error"] = body
    return out
