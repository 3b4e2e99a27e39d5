"""Garbage collection of stored files against a real service: only what nothing refers to, only once old."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from jupyter_aml import Experiment, Model
from tests.registry.test_cli import aml  # noqa: F401 - the CLI fixture


def blob_path(service, data: bytes):
    sha = hashlib.sha256(data).hexdigest()
    return service.root / "blobs" / sha[:2] / sha[2:4] / sha


def age(path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_gc_removes_only_unreferenced_old_files(service, aml, tmp_path):  # noqa: F811
    ws = service.workspace("clireg")
    dropped, kept, fresh = b"deleted-model-weights", b"run-output", b"upload-in-progress"
    (tmp_path / "dropped.bin").write_bytes(dropped)
    model = Model.register(ws, tmp_path / "dropped.bin", "gc-dropped")
    run = Experiment(ws, "gc").start_logging()
    (tmp_path / "kept.bin").write_bytes(kept)
    run.upload_file("outputs/kept.bin", tmp_path / "kept.bin")
    run.complete()
    model.delete()
    client = service.client()
    client.request("PUT", f"workspaces/clireg/blobs/{hashlib.sha256(fresh).hexdigest()}", data=fresh)
    for data in (dropped, kept):
        age(blob_path(service, data), 3 * 86400)

    dry = aml("gc", "--dry-run", "--json").json
    assert dry["dry_run"] and dry["removed"] >= 1 and blob_path(service, dropped).exists()
    report = aml("gc", "--json").json  # default grace: 24 h
    assert report["removed"] >= 1 and report["removed_bytes"] >= len(dropped)
    assert not blob_path(service, dropped).exists()
    assert blob_path(service, kept).exists()  # a run's output
    assert blob_path(service, fresh).exists()  # unreferenced but recent: an upload may be about to use it
    assert run.get_file_names() == ["outputs/kept.bin"]
    run.download_file("outputs/kept.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == kept


def test_asking_whether_a_file_is_stored_protects_it(service, aml, tmp_path):  # noqa: F811
    """A client told "already stored" will refer to the file soon: the check itself renews its grace."""
    data = b"re-uploaded-later"
    sha = hashlib.sha256(data).hexdigest()
    client = service.client()
    client.request("PUT", f"workspaces/clireg/blobs/{sha}", data=data)
    age(blob_path(service, data), 3 * 86400)
    assert client.post("workspaces/clireg/blobs/missing", {"hashes": [sha]})["missing"] == []
    aml("gc", "--json")
    assert blob_path(service, data).exists()


@pytest.mark.parametrize("grace", ["soon", "-1h"])
def test_gc_rejects_a_bad_grace_period(aml, grace):  # noqa: F811
    outcome = aml("gc", "--grace", grace)
    assert outcome.exit_code == 2 and "--grace" in outcome.stderr
