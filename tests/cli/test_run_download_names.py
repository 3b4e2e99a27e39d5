"""``aml run download`` with a run file stored under a name that is not a safe relative path (stored before
run-file paths were validated): that file is skipped with a warning naming it, the others are downloaded."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path

from jupyter_aml import Experiment, Workspace
from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.store.db import Database
from jupyter_aml.store.tables import RunFileRow
from tests.cli.conftest import Outcome, Service

LEGACY = (" ../x", " notes.txt")  # ' notes.txt' would come back as notes.txt: the server trims query strings


def test_run_download_skips_legacy_unsafe_names_and_downloads_the_rest(
    service: Service, aml: Callable[..., Outcome], tmp_path: Path
) -> None:
    ws = Workspace.create("names", client=ServiceClient(service.url, service.token))
    run = Experiment(ws, "legacy").start_logging()
    run.upload_file("outputs/good.txt", io.BytesIO(b"good"))
    run.upload_file("notes.txt", io.BytesIO(b"notes"))
    run.complete()
    db = Database(f"sqlite:///{service.root / 'aml.db'}")
    try:
        with db.session() as s:
            for path in LEGACY:
                s.add(RunFileRow(run_id=run.id, path=path, sha256=hashlib.sha256(b"good").hexdigest(), size=4))
    finally:
        db.dispose()

    target = tmp_path / "dl"
    got = aml("-w", "names", "run", "download", run.id, "-o", str(target))
    assert got.exit_code == 0, got.stderr
    for path in LEGACY:
        assert repr(path) in got.stderr and "skipped" in got.stderr
    assert (target / "outputs" / "good.txt").read_text() == "good"
    assert (target / "notes.txt").read_text() == "notes"
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "notes.txt", "outputs/good.txt"]
    assert "2 files" in got.stdout

    listed = aml("-w", "names", "run", "download", run.id, "-o", str(tmp_path / "json"), "--json")
    assert listed.exit_code == 0, listed.stderr
    assert [i["path"] for i in listed.json["items"]] == ["notes.txt", "outputs/good.txt"]
    assert [s["path"] for s in listed.json["skipped"]] == sorted(LEGACY)
    assert all("whitespace" in s["reason"] or "' ..'" in s["reason"] for s in listed.json["skipped"])
