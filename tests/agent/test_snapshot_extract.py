from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from jupyter_aml.agent.snapshot import UnsafeArchive, fresh_dir, safe_extract
from jupyter_aml.errors import InvalidInput


def make_zip(path: Path, entries: list[tuple[str, bytes, int]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


def test_extracts_files_dirs_and_exec_bit(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "s.zip", [("train.py", b"print(1)", 0o100644), ("pkg/", b"", 0o40755),
                                       ("pkg/run.sh", b"#!/bin/sh", 0o100755), ("a/b/c.txt", b"c", 0o100644)])
    wd = fresh_dir(tmp_path / "wd")
    assert safe_extract(z, wd) == 3
    assert (wd / "train.py").read_bytes() == b"print(1)"
    assert (wd / "pkg" / "run.sh").stat().st_mode & stat.S_IXUSR
    assert not (wd / "train.py").stat().st_mode & stat.S_IXUSR
    assert (wd / "a" / "b" / "c.txt").read_text() == "c"


@pytest.mark.parametrize("name", ["../evil.py", "/etc/evil", "a/../../evil", "a\\..\\evil", "C:/evil",
                                  "a//b", "./", "a/./../../x"])
def test_rejects_unsafe_names(tmp_path: Path, name: str) -> None:
    z = make_zip(tmp_path / "s.zip", [(name, b"x", 0o100644)])
    wd = fresh_dir(tmp_path / "wd")
    with pytest.raises(InvalidInput):
        safe_extract(z, wd)
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "evil").exists()


def test_rejects_symlink_entries_and_escaping_symlinked_dirs(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "s.zip", [("link", b"/etc/passwd", 0o120777)])
    wd = fresh_dir(tmp_path / "wd")
    with pytest.raises(UnsafeArchive):
        safe_extract(z, wd)
    outside = tmp_path / "outside"
    outside.mkdir()
    (wd / "sub").symlink_to(outside)  # a pre-existing link must not be followed out of wd
    z2 = make_zip(tmp_path / "s2.zip", [("sub/x.py", b"x", 0o100644)])
    with pytest.raises(UnsafeArchive):
        safe_extract(z2, wd)
    assert not (outside / "x.py").exists()


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_rejects_oversized_and_duplicates(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "s.zip", [("a", b"x" * 1000, 0o100644)])
    with pytest.raises(UnsafeArchive):
        safe_extract(z, fresh_dir(tmp_path / "wd"), max_bytes=10)
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as zf:
        zf.writestr("a", b"1")
        zf.writestr("a", b"2")
    with pytest.raises(UnsafeArchive):
        safe_extract(tmp_path / "d.zip", fresh_dir(tmp_path / "wd"))
