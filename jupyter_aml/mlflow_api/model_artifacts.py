"""A model version's files through MLflow's artifact proxy: ``registered-models/<name>/<version>/artifacts``.

``model-versions/get-download-uri`` answers this location for a version that is not an MLflow logged model
(one registered through the v1 SDK), so ``mlflow.artifacts.download_artifacts("models:/name/1")`` downloads
the same files as ``Model(ws, name, version=1).download()``, at the same relative paths. Read-only: a model
version's files never change.
"""

from __future__ import annotations

import posixpath
from typing import IO, Any

from jupyter_aml.core.models import RunFile
from jupyter_aml.core.service import AMLService
from jupyter_aml.errors import NotFound
from jupyter_aml.mlflow_api.errors import invalid, missing

ROOT = "registered-models"


def artifact_uri(name: str, version: int) -> str:
    return f"mlflow-artifacts:/{ROOT}/{name}/{version}/artifacts"


def parse(path: str) -> tuple[str, int, str]:
    """(model name, version, path inside its files) of ``registered-models/<name>/<version>/artifacts[/<path>]``."""
    parts = path.strip("/").split("/", 4)
    if len(parts) < 4 or parts[0] != ROOT or parts[3] != "artifacts" or not parts[2].isdigit() or len(parts[2]) > 9:
        raise missing(f"No artifact location {path!r}: a model version's files live at "
                      f"{ROOT}/<name>/<version>/artifacts/<path>")
    rel = parts[4].strip("/") if len(parts) == 5 else ""
    if rel and (".." in rel.split("/") or rel != posixpath.normpath(rel)):
        raise invalid(f"Invalid artifact path {rel!r}: it must be a relative path without '.' or '..' parts")
    return parts[1], int(parts[2]), rel


def _files(service: AMLService, workspace: str, name: str, version: int) -> list[RunFile]:
    try:
        return service.models.files(workspace, name, version)
    except NotFound:
        raise missing(f"Model Version (name={name}, version={version}) not found") from None


def listing(service: AMLService, workspace: str, name: str, version: int, folder: str) -> dict[str, Any]:
    files = _files(service, workspace, name, version)
    if folder and not any(f.path.startswith(folder + "/") for f in files):
        found = next((f for f in files if f.path == folder), None)
        return {"files": [] if found is None else [{"path": posixpath.basename(folder), "is_dir": False,
                                                    "file_size": found.size}]}
    entries: dict[str, dict[str, Any]] = {}
    for f in files:
        if folder and not f.path.startswith(folder + "/"):
            continue
        rest = f.path[len(folder) + 1:] if folder else f.path
        top, slash, _ = rest.partition("/")
        entries[top] = {"path": top, "is_dir": True} if slash else {"path": top, "is_dir": False,
                                                                     "file_size": f.size}
    return {"files": [entries[k] for k in sorted(entries)]}


def open_file(service: AMLService, workspace: str, name: str, version: int, rel: str) -> tuple[IO[bytes], int]:
    found = next((f for f in _files(service, workspace, name, version) if f.path == rel), None)
    if found is None:
        raise missing(f"Artifact {rel!r} not found in model {name}:{version}")
    return service.blobs.open(found.sha256), found.size
