"""manifest_id / manifest_entries / normalize_manifest: content-derived snapshot ids."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_aml.errors import InvalidInput
from jupyter_aml.snapshot.manifest import manifest_entries, manifest_id, normalize_manifest
from jupyter_aml.snapshot.scan import scan_folder

Write = Callable[..., Path]
SHA_A = hashlib.sha256(b"abc").hexdigest()


def make_project(root: Path, write: Write) -> None:
    write(root, "train.py", "import sys\nprint(sys.argv)\n")
    write(root, "run.sh", "#!/bin/sh\npython train.py\n", mode=0o755)
    write(root, "conf/params.yaml", "lr: 0.1\n")


def test_id_pins_the_canonical_encoding() -> None:
    # Any other implementation (server, other SDK) must reproduce exactly these bytes.
    expected = hashlib.sha256(f'[["a.txt","{SHA_A}",3,420]]'.encode()).hexdigest()
    assert manifest_id([{"path": "a.txt", "sha256": SHA_A, "size": 3, "mode": 0o644}]) == expected


def test_same_content_in_different_places_gives_the_same_id(tmp_path: Path, write: Write) -> None:
    make_project(tmp_path / "one", write)
    shutil.copytree(tmp_path / "one", tmp_path / "two", copy_function=shutil.copy)  # fresh mtimes/inodes
    os.utime(tmp_path / "two" / "train.py", (1, 1))
    a = manifest_id(scan_folder(tmp_path / "one").files)
    b = manifest_id(scan_folder(tmp_path / "two").files)
    assert a == b
    assert len(a) == 64 and int(a, 16) >= 0


def test_id_changes_when_any_byte_changes(tmp_path: Path, write: Write) -> None:
    make_project(tmp_path, write)
    before = manifest_id(scan_folder(tmp_path).files)
    path = tmp_path / "conf" / "params.yaml"
    path.write_bytes(path.read_bytes().replace(b"0.1", b"0.2"))  # same size, one byte differs
    assert manifest_id(scan_folder(tmp_path).files) != before


def test_id_changes_with_mode_and_with_path(tmp_path: Path, write: Write) -> None:
    make_project(tmp_path, write)
    base = manifest_id(scan_folder(tmp_path).files)
    os.chmod(tmp_path / "run.sh", 0o644)
    no_exec = manifest_id(scan_folder(tmp_path).files)
    assert no_exec != base
    (tmp_path / "run.sh").rename(tmp_path / "run2.sh")
    assert manifest_id(scan_folder(tmp_path).files) not in (base, no_exec)


def test_id_ignores_order_and_input_form(tmp_path: Path, write: Write) -> None:
    make_project(tmp_path, write)
    scan = scan_folder(tmp_path)
    rows = manifest_entries(scan)
    assert manifest_id(scan.files) == manifest_id(rows) == manifest_id(list(reversed(rows)))
    # Normalised spellings (./, upper-case hex) identify the same snapshot.
    spelled = [{**r, "path": "./" + r["path"], "sha256": r["sha256"].upper()} for r in rows]
    assert manifest_id(spelled) == manifest_id(rows)


def test_manifest_entries_are_the_rest_payload(tmp_path: Path, write: Write) -> None:
    make_project(tmp_path, write)
    rows = manifest_entries(scan_folder(tmp_path))
    assert [r["path"] for r in rows] == ["conf/params.yaml", "run.sh", "train.py"]
    assert rows[1] == {
        "path": "run.sh",
        "sha256": hashlib.sha256(b"#!/bin/sh\npython train.py\n").hexdigest(),
        "size": 26,
        "mode": 0o755,
    }
    assert all(set(r) == {"path", "sha256", "size", "mode"} for r in rows)


def good(**over: Any) -> dict[str, Any]:
    return {"path": "a.txt", "sha256": SHA_A, "size": 3, "mode": 0o644, **over}


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ([good(), good()], "twice"),
        ([good(), good(path="./a.txt")], "twice"),
        ([good(path="../a.txt")], "'..'"),
        ([good(path="/etc/passwd")], "absolute"),
        ([good(path="a\\b")], "backslash"),
        ([good(sha256="xyz")], "sha256"),
        ([good(size=-1)], "size"),
        ([good(size=True)], "size"),
        ([good(mode=0o600)], "mode"),
        ([good(mode=0o100644)], "mode"),
        ([{"path": "a.txt", "sha256": SHA_A, "size": 3}], "'mode'"),
        ([good(path="a"), good(path="a/b")], "as a file and also"),
    ],
)
def test_untrusted_manifests_are_refused(files: list[dict[str, Any]], needle: str) -> None:
    with pytest.raises(InvalidInput) as info:
        normalize_manifest(files)
    assert needle in info.value.message
    with pytest.raises(InvalidInput):
        manifest_id(files)


def test_normalize_manifest_sorts_and_cleans() -> None:
    out = normalize_manifest([good(path="b//c.txt", sha256=SHA_A.upper()), good(path="./a.txt")])
    assert out == [good(path="a.txt"), good(path="b/c.txt")]
