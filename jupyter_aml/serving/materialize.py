"""Turning a revision plan into folders: model files (cached per content), scoring code, the model layout.

Model files are copied out of the blob store once per distinct model content into
``<serving root>/models/<manifest hash>`` (read-only; built in a temporary folder and renamed into place),
then every revision that uses them links them as ``<revision>/azureml-models/<name>/<version>``, the
layout Azure ML v1 gave scoring scripts: with one model ``AZUREML_MODEL_DIR`` is that model's folder,
with several it is ``azureml-models`` and each model sits under ``<name>/<version>``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from jupyter_aml.core.deployments import ModelPlan, RevisionPlan
from jupyter_aml.snapshot.paths import resolve_inside, validate_relpath
from jupyter_aml.store.blobs import BlobStore

READY = ".aml-ready"


def _copy_blob(blobs: BlobStore, sha256: str, dest: Path, mode: int = 0o644) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with blobs.open(sha256) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    os.chmod(dest, mode)


def model_content_hash(model: ModelPlan) -> str:
    body = json.dumps([[f.path, f.sha256] for f in model.files], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def materialize_model(blobs: BlobStore, cache_root: Path, model: ModelPlan) -> Path:
    final = cache_root / model_content_hash(model)
    if (final / READY).is_file():
        return final
    tmp = cache_root / f".tmp-{final.name}-{os.getpid()}-{id(model)}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for f in model.files:
            _copy_blob(blobs, f.sha256, tmp.joinpath(*validate_relpath(f.path).split("/")), 0o444)
        (tmp / READY).write_text(model.name)
        try:
            os.rename(tmp, final)
        except OSError:  # built concurrently by another revision
            if not (final / READY).is_file():
                raise
    finally:
        if tmp.exists():
            _make_writable(tmp)
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _make_writable(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def materialize_source(blobs: BlobStore, dest: Path, files: list[tuple[str, str, int]]) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for path, sha256, mode in files:
        target = resolve_inside(dest, path)
        _copy_blob(blobs, sha256, target, mode & 0o777 or 0o644)
    return dest


def model_layout(rev_dir: Path, plan: RevisionPlan, cached: list[Path],
                 root_in_replica: str | None = None) -> tuple[str, dict[str, Any]]:
    """Link the cached models under ``rev_dir/azureml-models``; return (AZUREML_MODEL_DIR, AML_MODELS).

    ``root_in_replica`` is where ``rev_dir/azureml-models`` appears to the replica (a container mount)."""
    models_root = rev_dir / "azureml-models"
    shutil.rmtree(models_root, ignore_errors=True)
    seen_root = root_in_replica or str(models_root)
    info: dict[str, Any] = {}
    for model, folder in zip(plan.models, cached, strict=True):
        link = models_root / model.name / str(model.version)
        link.parent.mkdir(parents=True, exist_ok=True)
        if root_in_replica:
            shutil.copytree(folder, link, ignore=shutil.ignore_patterns(READY))  # an image needs real files
        else:
            os.symlink(folder, link, target_is_directory=True)
        info[model.name] = {"version": model.version, "path": model.path,
                            "dir": f"{seen_root}/{model.name}/{model.version}"}
    if len(plan.models) == 1:
        only = plan.models[0]
        return f"{seen_root}/{only.name}/{only.version}", info
    return seen_root, info
