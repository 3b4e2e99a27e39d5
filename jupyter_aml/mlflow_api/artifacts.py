"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts/artifacts/...``) on the run's files.

A run's ``artifact_uri`` is ``mlflow-artifacts:/runs/<run_id>/artifacts``; the client resolves it against
the tracking URI (so the workspace is the tracking URI's), uploads a file with ``PUT .../<path>``, downloads it
with ``GET .../<path>`` and lists a folder with ``GET .../artifacts?path=runs/<run_id>/artifacts/<folder>``.
An artifact at ``<path>`` *is* the run file at ``<path>``: ``mlflow.log_artifact("model.pkl")`` shows as
the run's ``model.pkl`` in the studio and in ``run.get_file_names()``, and a v1 run's ``outputs/...`` are
its MLflow artifacts. Blobs are content-addressed, so an artifact uploaded twice is stored once.
"""

from __future__ import annotations

import hashlib
import posixpath
from typing import IO, Any

from jupyter_aml.core import models
from jupyter_aml.core.service import AMLService
from jupyter_aml.errors import NotFound
from jupyter_aml.mlflow_api.errors import invalid, missing
from jupyter_aml.mlflow_api.ids import to_mlflow

ROOT = "mlflow-artifacts/artifacts"
CHUNK = 1 << 20


def artifact_uri(run_id: str) -> str:
    return f"mlflow-artifacts:/runs/{to_mlflow(run_id)}/artifacts"


def parse(path: str) -> tuple[str, str]:
    """(run id, path inside the run's artifacts) of ``runs/<run_id>/artifacts[/<path>]``."""
    parts = path.strip("/").split("/", 3)
    if len(parts) < 3 or parts[0] != "runs" or parts[2] != "artifacts" or not parts[1]:
        raise missing(f"No artifact location {path!r}: artifacts live at runs/<run_id>/artifacts/<path>")
    rel = parts[3].strip("/") if len(parts) == 4 else ""
    if rel and (".." in rel.split("/") or rel != posixpath.normpath(rel)):
        raise invalid(f"Invalid artifact path {rel!r}: it must be a relative path without '.' or '..' parts")
    return parts[1], rel


def listing(service: AMLService, workspace: str, run_id: str, folder: str) -> dict[str, Any]:
    """The folder's direct children, paths relative to it, as MLflow's ``ListArtifacts`` answers."""
    try:
        files = service.files.run_files(workspace, run_id, prefix=f"{folder}/" if folder else "")
    except NotFound:
        raise missing(f"Run with id={run_id} not found") from None
    if folder and not files:
        try:  # the path is a file: MLflow lists the file itself
            found = service.files.run_file(workspace, run_id, folder)
        except NotFound:
            return {"files": []}
        return {"files": [{"path": posixpath.basename(found.path), "is_dir": False, "file_size": found.size}]}
    entries: dict[str, dict[str, Any]] = {}
    for f in files:
        rest = f.path[len(folder) + 1:] if folder else f.path
        name, slash, _ = rest.partition("/")
        if slash:
            entries.setdefault(name, {"path": name, "is_dir": True})
        else:
            entries[name] = {"path": name, "is_dir": False, "file_size": f.size}
    return {"files": [entries[k] for k in sorted(entries)]}


def store(service: AMLService, workspace: str, run_id: str, rel: str, body: IO[bytes]) -> None:
    """Keep the uploaded bytes as a blob and register it as the run file ``rel``."""
    if not rel:
        raise invalid("An artifact upload names a file: PUT .../runs/<run_id>/artifacts/<path>")
    digest, size = hashlib.sha256(), 0
    body.seek(0)
    while chunk := body.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    body.seek(0)
    sha = digest.hexdigest()
    service.blobs.put_stream(sha, body, max_bytes=service.settings.max_upload_bytes)  # type: ignore[arg-type]
    try:
        service.files.add_run_files(workspace, run_id, models.RunFiles(
            files=[models.RunFile(path=rel, sha256=sha, size=size)]))
    except NotFound:
        raise missing(f"Run with id={run_id} not found") from None


def open_file(service: AMLService, workspace: str, run_id: str, rel: str) -> tuple[IO[bytes], int]:
    try:
        found = service.files.run_file(workspace, run_id, rel)
    except NotFound:
        raise missing(f"Artifact {rel!r} not found in run {run_id}") from None
    return service.blobs.open(found.sha256), found.size
