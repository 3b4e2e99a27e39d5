"""``Run``: one execution of a script, with Azure ML v1's method names.

Inside a submitted run, ``Run.get_context()`` returns the live run: ``log*`` calls append to the run's
local journal (microseconds, no network on the training thread) and the run agent ships the journal.
Outside any run it returns an offline run that prints what it would log.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from jupyter_aml.errors import AMLError, InvalidInput
from jupyter_aml.runtime.env import RunContextInfo
from jupyter_aml.statuses import TERMINAL_STATUSES

if TYPE_CHECKING:
    from jupyter_aml.runtime.journal import JournalWriter
    from jupyter_aml.sdk.experiment import Experiment



class ActivityFailedError(AMLError):
    """Raised by ``wait_for_completion`` when the run did not complete (Azure: ActivityFailedException)."""

    code = "ActivityFailed"


ActivityFailedException = ActivityFailedError


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class Run:
    _context: Run | None = None

    def __init__(
        self,
        experiment: Experiment,
        run_id: str,
        *,
        _details: dict[str, Any] | None = None,
        _journal: JournalWriter | None = None,
    ) -> None:
        self.experiment = experiment
        self.id = run_id
        self._details = _details
        self._journal = _journal
        self._shipper: Any = None  # interactive runs ship their own journal

    # -- context ----------------------------------------------------------------------------------
    @classmethod
    def get_context(cls, allow_offline: bool = True, **_: Any) -> Run:
        if cls._context is not None:
            return cls._context
        ctx = RunContextInfo.from_environ()
        if ctx is None:
            if not allow_offline:
                raise AMLError("not inside a run", hint="submit the script with Experiment.submit()")
            cls._context = OfflineRun()
            return cls._context
        from jupyter_aml.runtime.http import ServiceClient
        from jupyter_aml.runtime.journal import get_journal
        from jupyter_aml.sdk.experiment import Experiment
        from jupyter_aml.sdk.workspace import Workspace

        client = ServiceClient(ctx.service_url, ctx.token, retry=5)
        ws = Workspace._in_run(ctx.workspace, client)
        journal = get_journal(ctx.journal) if ctx.journal else None
        cls._context = cls(Experiment(ws, ctx.experiment), ctx.run_id, _journal=journal)
        return cls._context

    # -- identity ---------------------------------------------------------------------------------
    @property
    def _client(self) -> Any:
        return self.experiment.workspace._client

    def _path(self, *parts: str) -> str:
        from jupyter_aml.sdk.workspace import _q

        return self.experiment.workspace._path("runs", _q(self.id), *parts)

    def _refresh(self) -> dict[str, Any]:
        self._details = self._client.get(self._path())
        return self._details

    @property
    def _info(self) -> dict[str, Any]:
        return self._details if self._details is not None else self._refresh()

    @property
    def number(self) -> int:
        return int(self._info["number"])

    @property
    def display_name(self) -> str:
        return str(self._info["display_name"])

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

    def get_details(self) -> dict[str, Any]:
        """Azure v1 shaped details (runId, target, status, times, properties, runDefinition)."""
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
            "snapshotId": d.get("snapshot_id"),
            "git": d.get("git"),
            "error": d.get("error"),
            "parentRunId": d.get("parent_id"),
            "experiment": d.get("experiment"),
        }

    def get_tags(self) -> dict[str, str]:
        return self.tags

    def get_properties(self) -> dict[str, str]:
        return self.properties

    # -- logging (journal; never blocks on the network) ----------------------------------------------
    def _sink(self) -> JournalWriter:
        if self._journal is None:
            raise AMLError(
                f"run {self.id} has no journal to log into",
                hint="log from inside the run's script, or use Experiment.start_logging()",
            )
        return self._journal

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        self._sink().log_metric(self.id, name, value, step, description or None)

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        self._sink().log_list(self.id, name, value, description or None)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        self._sink().log_row(self.id, name, kwargs, description)

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        self._sink().log_table(self.id, name, value, description or None)

    def log_image(
        self, name: str, path: str | os.PathLike[str] | None = None, plot: Any = None, description: str = ""
    ) -> None:
        if (path is None) == (plot is None):
            raise InvalidInput("log_image needs exactly one of path= or plot=")
        if plot is not None:
            buffer = io.BytesIO()
            figure = plot.gcf() if hasattr(plot, "gcf") else plot
            figure.savefig(buffer, format="png")
            data = buffer.getvalue()
            rel = f"logs/images/{name}.png"
        else:
            source = Path(path)  # type: ignore[arg-type]
            if not source.is_file():
                raise InvalidInput(f"image file {str(source)!r} does not exist")
            data = source.read_bytes()
            rel = f"logs/images/{name}{source.suffix or '.png'}"
        sha = self._upload_bytes(rel, data)
        self._sink().log_image(self.id, name, sha, rel, description or None)

    def flush(self, timeout_seconds: float = 300) -> None:
        """Wait until everything logged so far is acknowledged (interactive runs)."""
        if self._shipper is not None:
            self._shipper.flush(timeout_seconds)

    # -- tags and properties ----------------------------------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: "" if value is None else value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        self._details = self._client.patch(self._path(), {"tags": {k: str(v) for k, v in tags.items()}})

    def remove_tags(self, keys: list[str]) -> None:
        self._details = self._client.patch(self._path(), {"remove_tags": list(keys)})

    def add_properties(self, properties: dict[str, Any]) -> None:
        self._details = self._client.patch(self._path(), {"properties": {k: str(v) for k, v in properties.items()}})

    # -- files ----------------------------------------------------------------------------------------
    def _upload_bytes(self, name: str, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self._put_blob(sha, data=data)
        self._client.post(self._path("files"), {"files": [{"path": name, "sha256": sha, "size": len(data)}]})
        return sha

    def _put_blob(self, sha: str, *, data: bytes | None = None, file: Path | None = None) -> None:
        ws_path = self.experiment.workspace._path
        if self._client.post(ws_path("blobs", "missing"), {"hashes": [sha]})["missing"]:
            self._client.request(
                "PUT",
                ws_path("blobs", sha),
                data=data,
                file=str(file) if file else None,
                content_type="application/octet-stream",
            )

    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO) -> dict[str, Any]:
        if hasattr(path_or_stream, "read"):
            return {"path": name, "sha256": self._upload_bytes(name, path_or_stream.read())}
        source = Path(path_or_stream)
        if not source.is_file():
            raise InvalidInput(f"file {str(source)!r} does not exist")
        sha = _sha256_file(source)
        self._put_blob(sha, file=source)
        self._client.post(
            self._path("files"), {"files": [{"path": name, "sha256": sha, "size": source.stat().st_size}]}
        )
        return {"path": name, "sha256": sha}

    def upload_files(self, names: list[str], paths: list[str]) -> None:
        for name, path in zip(names, paths, strict=True):
            self.upload_file(name, path)

    def upload_folder(self, name: str, path: str | os.PathLike[str]) -> list[str]:
        root = Path(path)
        if not root.is_dir():
            raise InvalidInput(f"folder {str(root)!r} does not exist")
        uploaded = []
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = f"{name.rstrip('/')}/{file.relative_to(root).as_posix()}"
            self.upload_file(rel, file)
            uploaded.append(rel)
        return uploaded

    def get_file_names(self) -> list[str]:
        return [f["path"] for f in self._client.get(self._path("files"))["items"]]

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None) -> Path:
        target = Path(output_file_path or Path(name).name)
        if target.is_dir():
            target = target / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        self._client.stream_download(self._path("files", "content"), target, params={"path": name})
        return target

    def download_files(self, prefix: str = "", output_directory: str | os.PathLike[str] = ".") -> list[Path]:
        out = Path(output_directory)
        return [self.download_file(n, out / n) for n in self.get_file_names() if n.startswith(prefix)]

    def register_model(self, model_name: str, model_path: str | None = None, **kwargs: Any) -> Any:
        """Register the run's file or folder ``model_path`` (e.g. ``outputs/model.pkl``) as a model version,
        by reference (the run's files are already in the workspace) and with the run as its lineage.
        Keyword arguments as ``Model.register``: tags, properties, description, model_framework,
        model_framework_version, sample_input."""
        from jupyter_aml.sdk.model import Model

        if not model_path:
            raise InvalidInput("register_model needs model_path", hint="e.g. model_path='outputs/model.pkl'")
        return Model._register_from_run(self, model_name, model_path, **kwargs)

    # -- metrics (reading) ------------------------------------------------------------------------------
    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        """``{name: value}`` (a list when logged more than once); with ``recursive``, ``{run_id: {...}}``."""
        from jupyter_aml.sdk.workspace import _q

        params = {"recursive": "true" if recursive else "false"}
        summaries = self._client.get(self._path("metrics"), params=params)["items"]
        out: dict[str, dict[str, Any]] = {}
        for item in summaries:
            if name is not None and item["name"] != name:
                continue
            run_path = self.experiment.workspace._path("runs", _q(item["run_id"]), "metrics", _q(item["name"]))
            if item["kind"] == "scalar" and item["count"] == 1:
                value: Any = item["last_value"]
            else:
                value = self._client.get(run_path)["values"]
                if item["kind"] == "row":
                    value = _rows_to_table(value)
                elif (item["kind"] in ("table", "image") and len(value) == 1) or (
                    item["kind"] == "list" and len(value) == 1
                ):
                    value = value[0]
            out.setdefault(item["run_id"], {})[item["name"]] = value
        if recursive:
            return out
        return out.get(self.id, {})

    # -- children ------------------------------------------------------------------------------------
    def child_run(self, name: str | None = None, run_id: str | None = None, outputs: str | None = None) -> Run:
        item = self._client.post(self._path("children"), {"display_name": name or ""})["items"][0]
        child = Run(self.experiment, item["id"], _details=item, _journal=self._journal)
        child._shipper = self._shipper
        return child

    def create_children(
        self, count: int | None = None, tag_key: str | None = None, tag_values: list[str] | None = None
    ) -> list[Run]:
        if tag_values is not None:
            runs = [self.child_run() for _ in tag_values]
            for run, value in zip(runs, tag_values, strict=True):
                run.tag(tag_key or "tag", value)
            return runs
        items = self._client.post(self._path("children"), {"count": int(count or 1)})["items"]
        return [Run(self.experiment, i["id"], _details=i, _journal=self._journal) for i in items]

    def get_children(self, recursive: bool = False) -> list[Run]:
        items = self._client.get(self._path("children"), params={"recursive": "true" if recursive else "false"})
        return [Run(self.experiment, i["id"], _details=i, _journal=self._journal) for i in items["items"]]

    # -- lifecycle ------------------------------------------------------------------------------------
    def _set_status(self, status: str, error: dict[str, Any] | None = None) -> None:
        self.flush()
        body: dict[str, Any] = {"status": status}
        if error:
            body["error"] = error
        self._details = self._client.post(self._path("status"), body)
        if self._shipper is not None and self._shipper.run_id == self.id:
            self._shipper.stop()

    def start(self) -> None:
        self._set_status("Running")

    def complete(self, _set_status: bool = True) -> None:
        self._set_status("Completed")

    def fail(self, error_details: Any = None, error_code: str | None = None, _set_status: bool = True) -> None:
        message = str(error_details) if error_details is not None else "the run was marked failed"
        self._set_status("Failed", {"message": message, "details": error_code})

    def cancel(self) -> None:
        self.flush()
        self._details = self._client.post(self._path("cancel"))

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.complete()
        else:
            self.fail(error_details=f"{exc_type.__name__}: {exc}")

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        poll_seconds: float = 0.5,
    ) -> dict[str, Any]:
        """Block until the run ends; with ``show_output``, stream its log lines as they arrive."""
        last_id = 0
        while True:
            status = self.get_status()
            if show_output:
                last_id = self._print_logs(last_id)
            if status in TERMINAL_STATUSES:
                if show_output:
                    self._print_logs(last_id)  # lines that arrived with the final status
                    print(f"\nRun {self.id}: {status}")
                break
            time.sleep(poll_seconds)
        details = self.get_details()
        if raise_on_error and status != "Completed":
            error = (details.get("error") or {}).get("message") or status
            raise ActivityFailedError(
                f"run {self.id} ended {status}: {error}",
                hint=f"see the logs with `aml run logs {self.id}`",
                details=details.get("error"),
            )
        return details

    def _print_logs(self, after: int) -> int:
        """Print every log line after ``after`` (all pages) to stdout/stderr; return the last id."""
        while True:
            page = self._client.get(self._path("logs"), params={"after": after, "limit": 5000})
            for line in page["items"]:
                print(line["text"], file=sys.stderr if line["stream"] == "stderr" else sys.stdout)
            if not page["items"]:
                return after
            after = page["last_id"]

    def get_logs(self, after: int = 0) -> list[dict[str, Any]]:
        """All log lines after the line id ``after``: ``[{id, stream, ts, text}]``."""
        lines: list[dict[str, Any]] = []
        while True:
            page = self._client.get(self._path("logs"), params={"after": after, "limit": 5000})
            lines += page["items"]
            if not page["items"]:
                return lines
            after = page["last_id"]

    @classmethod
    def get(cls, workspace: Any, run_id: str) -> Run:
        """``Run.get(ws, run_id)`` as in Azure ML v1."""
        from jupyter_aml.sdk.experiment import Experiment
        from jupyter_aml.sdk.workspace import _q

        details = workspace._client.get(workspace._path("runs", _q(run_id)))
        return cls(Experiment(workspace, details["experiment"]), run_id, _details=details)

    def get_portal_url(self) -> str:
        return f"aml:open-run?run_id={self.id}"

    def __repr__(self) -> str:
        return f"Run(experiment={self.experiment.name!r}, id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


def _rows_to_table(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    table: dict[str, list[Any]] = {}
    for index, row in enumerate(rows):
        for key, value in row.items():
            table.setdefault(key, [None] * index).append(value)
        for column in table.values():
            if len(column) < index + 1:
                column.append(None)
    return table


class OfflineRun(Run):
    """What ``Run.get_context()`` returns outside a run: prints what it would log, stores nothing."""

    def __init__(self) -> None:
        self.id = f"OfflineRun_{os.getpid()}"
        self._details = {
            "id": self.id,
            "status": "Running",
            "tags": {},
            "properties": {},
            "parent_id": None,
            "number": 0,
            "display_name": self.id,
        }
        self._journal = None
        self._shipper = None
        self._metrics: dict[str, Any] = {}
        self._rows: dict[str, list[dict[str, Any]]] = {}

    experiment = property(lambda self: None)

    def _say(self, what: str) -> None:
        print(f"[offline run] {what}")

    def _refresh(self) -> dict[str, Any]:
        return self._details  # type: ignore[return-value]

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        self._metrics.setdefault(name, []).append(value)
        self._say(f"log {name}={value!r}" + (f" step={step}" if step is not None else ""))

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        self._metrics[name] = list(value)
        self._say(f"log_list {name}={value!r}")

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        self._rows.setdefault(name, []).append(kwargs)
        self._say(f"log_row {name}={kwargs!r}")

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        self._metrics[name] = value
        self._say(f"log_table {name}")

    def log_image(self, name: str, path: Any = None, plot: Any = None, description: str = "") -> None:
        self._say(f"log_image {name}")

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        out = {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in self._metrics.items()}
        out.update({k: _rows_to_table(rows) for k, rows in self._rows.items()})  # as the service returns rows
        return {name: out[name]} if name and name in out else ({} if name else out)

    def set_tags(self, tags: dict[str, Any]) -> None:
        self._details["tags"].update({k: str(v) for k, v in tags.items()})  # type: ignore[index]
        self._say(f"set_tags {tags!r}")

    def add_properties(self, properties: dict[str, Any]) -> None:
        self._details["properties"].update({k: str(v) for k, v in properties.items()})  # type: ignore[index]

    def upload_file(self, name: str, path_or_stream: Any) -> dict[str, Any]:
        self._say(f"upload_file {name}")
        return {"path": name}

    def child_run(self, name: str | None = None, run_id: str | None = None, outputs: str | None = None) -> Run:
        return OfflineRun()

    def _set_status(self, status: str, error: dict[str, Any] | None = None) -> None:
        self._details["status"] = status  # type: ignore[index]
        self._say(f"status {status}")

    def cancel(self) -> None:
        self._set_status("Canceled")

    def get_file_names(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        return f"OfflineRun(id={self.id!r})"
