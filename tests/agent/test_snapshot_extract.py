"""The agent's snapshot step end to end: download the zip from a (fake) service, unpack it with the one
extractor (``snapshot/archive.py``, whose hostile-archive cases live in tests/snapshot)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from jupyter_aml.agent.snapshot import fetch_snapshot, fresh_dir
from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime.http import ServiceClient
from tests.agent.fakeservice import FakeService


def client(service: FakeService) -> ServiceClient:
    return ServiceClient(service.url, service.state.token)


def test_fetches_and_extracts_files_with_exec_bit(service: FakeService, tmp_path: Path) -> None:
    run = service.state.add_run("r1", files={"train.py": b"print(1)", "pkg/run.sh": b"#!/bin/sh",
                                             "a/b/c.txt": b"c"})
    assert run.snapshot_id
    wd = fresh_dir(tmp_path / "wd")
    assert fetch_snapshot(client(service), "ws", run.snapshot_id, tmp_path, wd) == 3
    assert (wd / "train.py").read_bytes() == b"print(1)"
    assert (wd / "pkg" / "run.sh").stat().st_mode & stat.S_IXUSR
    assert not (wd / "train.py").stat().st_mode & stat.S_IXUSR
    assert (wd / "a" / "b" / "c.txt").read_text() == "c"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wd"]  # the zip and the staging folder are gone


@pytest.mark.parametrize("name", ["../evil.py", "/etc/evil", "a/../../evil", "a//b"])
def test_hostile_snapshot_is_refused_and_leaves_wd_empty(service: FakeService, tmp_path: Path, name: str) -> None:
    run = service.state.add_run("r1", files={"ok.py": b"ok", name: b"pwned"})
    assert run.snapshot_id
    run_dir = tmp_path / "run"
    wd = fresh_dir(run_dir / "wd")
    with pytest.raises(InvalidInput):
        fetch_snapshot(client(service), "ws", run.snapshot_id, run_dir, wd)
    assert list(wd.iterdir()) == []
    assert sorted(p.name for p in run_dir.iterdir()) == ["wd"]
    assert not (tmp_path / "evil.py").exists() and not (run_dir / "evil.py").exists()


def test_fresh_dir_clears_what_a_previous_attempt_left(tmp_path: Path) -> None:
    wd = tmp_path / "wd"
    (wd / "old").mkdir(parents=True)
    (wd / "old" / "f.txt").write_text("stale")
    assert fresh_dir(wd) == wd and list(wd.iterdir()) == []
    wd.rmdir()
    wd.write_text("a file in the way")
    assert fresh_dir(wd).is_dir()
