"""scan_folder: Azure ML v1 ignore rules, symlink policy, limits and the hash cache."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from jupyter_aml.errors import InvalidInput, SnapshotTooLarge
from jupyter_aml.snapshot.scan import MAX_BYTES_ENV, MAX_FILES_ENV, scan_folder

Write = Callable[..., Path]


def paths(root: Path, **kwargs: object) -> list[str]:
    return [f.path for f in scan_folder(root, **kwargs).files]  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- ignore rules


def test_amlignore_beats_gitignore_and_they_are_not_merged(project: Path, write: Write) -> None:
    write(project, ".gitignore", "*.log\n")
    write(project, ".amlignore", "data/\n")
    for rel in ("train.py", "run.log", "data/big.bin"):
        write(project, rel)
    scan = scan_folder(project)
    assert scan.ignore_file == ".amlignore"
    # .gitignore's *.log is NOT applied once .amlignore exists; .amlignore's data/ is.
    assert [f.path for f in scan.files] == [".amlignore", ".gitignore", "run.log", "train.py"]


def test_gitignore_is_used_when_there_is_no_amlignore(project: Path, write: Write) -> None:
    write(project, ".gitignore", "*.log\n")
    for rel in ("train.py", "run.log", "data/big.bin"):
        write(project, rel)
    scan = scan_folder(project)
    assert scan.ignore_file == ".gitignore"
    assert [f.path for f in scan.files] == [".gitignore", "data/big.bin", "train.py"]


def test_no_ignore_file_keeps_everything(project: Path, write: Write) -> None:
    write(project, "a.log")
    scan = scan_folder(project)
    assert scan.ignore_file is None
    assert [f.path for f in scan.files] == ["a.log"]


def test_nested_ignore_files_apply_to_their_subtree(project: Path, write: Write) -> None:
    write(project, ".gitignore", "*.tmp\n")
    write(project, "sub/.gitignore", "!keep.tmp\nlocal.txt\n")
    for rel in ("a.tmp", "local.txt", "sub/keep.tmp", "sub/drop.tmp", "sub/local.txt", "sub/deeper/keep.tmp"):
        write(project, rel)
    assert paths(project) == [
        ".gitignore",
        "local.txt",  # sub/.gitignore does not reach its parent
        "sub/.gitignore",
        "sub/deeper/keep.tmp",  # the deeper negation overrides the root rule below sub/ too
        "sub/keep.tmp",
    ]


def test_nested_ignore_files_of_the_other_name_are_ignored(project: Path, write: Write) -> None:
    write(project, ".amlignore", "*.bin\n")
    write(project, "sub/.gitignore", "*.txt\n")  # not the chosen name: has no effect
    write(project, "sub/notes.txt")
    write(project, "sub/w.bin")
    write(project, "other/.amlignore", "*.txt\n")
    write(project, "other/notes.txt")
    assert paths(project) == [".amlignore", "other/.amlignore", "sub/.gitignore", "sub/notes.txt"]


def test_negation_and_directory_semantics_follow_git(project: Path, write: Write) -> None:
    write(project, ".amlignore", "*.csv\n!important.csv\noutputs/\n!outputs/keep.txt\n/build\n")
    for rel in (
        "a.csv",
        "important.csv",
        "sub/important.csv",
        "outputs/keep.txt",  # git cannot re-include a file inside an excluded folder
        "build/x.o",
        "src/build/x.py",  # '/build' is anchored to the ignore file's folder
    ):
        write(project, rel)
    assert paths(project) == [".amlignore", "important.csv", "src/build/x.py", "sub/important.csv"]


def test_dir_only_pattern_does_not_match_a_file(project: Path, write: Write) -> None:
    write(project, ".amlignore", "models/\n")
    write(project, "models")  # a file called 'models'
    write(project, "sub/models/w.pt")
    assert paths(project) == [".amlignore", "models"]


def test_vcs_and_cache_folders_are_always_skipped(project: Path, write: Write) -> None:
    write(project, ".amlignore", "!.git\n!__pycache__\n")
    for rel in (
        ".git/config",
        ".ipynb_checkpoints/nb-checkpoint.ipynb",
        "pkg/__pycache__/m.cpython-311.pyc",
        "pkg/.ipynb_checkpoints/x.py",
        "pkg/m.py",
        "nb.ipynb",
    ):
        write(project, rel)
    assert paths(project) == [".amlignore", "nb.ipynb", "pkg/m.py"]


# -------------------------------------------------------------------------------------------------- entries


def test_entries_carry_hash_size_mode_and_are_sorted(project: Path, write: Write) -> None:
    write(project, "z.txt", b"hello")
    write(project, "run.sh", b"#!/bin/sh\necho hi\n", mode=0o750)
    write(project, "a/secret.txt", b"", mode=0o600)
    scan = scan_folder(project)
    by_path = {f.path: f for f in scan.files}
    assert [f.path for f in scan.files] == ["a/secret.txt", "run.sh", "z.txt"]
    assert by_path["z.txt"].sha256 == hashlib.sha256(b"hello").hexdigest()
    assert by_path["z.txt"].size == 5
    assert by_path["run.sh"].mode == 0o755
    assert by_path["z.txt"].mode == 0o644
    assert by_path["a/secret.txt"].mode == 0o644
    assert by_path["a/secret.txt"].sha256 == hashlib.sha256(b"").hexdigest()
    assert scan.total_size == 5 + len(b"#!/bin/sh\necho hi\n")
    assert by_path["z.txt"].abspath == project.resolve() / "z.txt"


def test_missing_folder_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        scan_folder(tmp_path / "nope")


def test_unsafe_file_names_are_refused_with_a_hint(project: Path, write: Write) -> None:
    write(project, "ok.py")
    write(project, "weird\\name.txt")
    with pytest.raises(InvalidInput) as info:
        scan_folder(project)
    assert "weird\\\\name.txt" in info.value.message
    assert ".amlignore" in (info.value.hint or "")
    write(project, ".amlignore", "weird*\n")
    assert paths(project) == [".amlignore", "ok.py"]


# ------------------------------------------------------------------------------------------------- symlinks


def test_symlink_to_a_file_inside_is_included_as_its_content(project: Path, write: Write) -> None:
    real = write(project, "conf/real.yaml", b"lr: 0.1\n")
    (project / "link.yaml").symlink_to("conf/real.yaml")
    scan = scan_folder(project)
    by_path = {f.path: f for f in scan.files}
    assert set(by_path) == {"conf/real.yaml", "link.yaml"}
    assert by_path["link.yaml"].sha256 == hashlib.sha256(b"lr: 0.1\n").hexdigest()
    assert by_path["link.yaml"].abspath == real.resolve()


def test_symlink_leaving_the_folder_is_refused(project: Path, tmp_path: Path, write: Write) -> None:
    outside = write(tmp_path, "outside/secret.txt", b"token")
    write(project, "train.py")
    (project / "escape.txt").symlink_to(outside)
    with pytest.raises(InvalidInput) as info:
        scan_folder(project)
    assert "escape.txt" in info.value.message
    assert ".amlignore" in (info.value.hint or "")
    # Following the hint works.
    write(project, ".amlignore", "escape.txt\n")
    assert paths(project) == [".amlignore", "train.py"]


def test_refusal_hint_names_the_gitignore_in_force(project: Path, tmp_path: Path, write: Write) -> None:
    write(project, ".gitignore", "*.log\n")
    (project / "escape.txt").symlink_to(write(tmp_path, "outside.txt"))
    with pytest.raises(InvalidInput) as info:
        scan_folder(project)
    hint = info.value.hint or ""
    assert "'escape.txt' to .gitignore" in hint and "replaces .gitignore" in hint


def test_symlink_to_sibling_with_shared_prefix_is_refused(tmp_path: Path, write: Write) -> None:
    root = tmp_path / "proj"
    write(root, "a.py")
    target = write(tmp_path, "proj-data/x.csv")
    (root / "x.csv").symlink_to(target)
    with pytest.raises(InvalidInput, match=r"x\.csv"):
        scan_folder(root)


def test_directory_symlinks_are_not_followed(project: Path, tmp_path: Path, write: Write) -> None:
    write(project, "sub/a.txt")
    (project / "loop").symlink_to(project)  # would recurse forever if followed
    (project / "alias").symlink_to(project / "sub")
    write(tmp_path, "elsewhere/b.txt")
    (project / "ext").symlink_to(tmp_path / "elsewhere")
    assert paths(project) == ["sub/a.txt"]


def test_broken_symlink_is_refused(project: Path) -> None:
    (project / "dangling").symlink_to(project / "missing")
    with pytest.raises(InvalidInput, match="dangling"):
        scan_folder(project)


# --------------------------------------------------------------------------------------------------- limits


def test_too_many_files_lists_the_ten_largest(project: Path, write: Write) -> None:
    for i in range(12):
        write(project, f"f{i:02d}.bin", b"x" * (100 * (i + 1)))
    with pytest.raises(SnapshotTooLarge) as info:
        scan_folder(project, max_files=5)
    err = info.value
    assert "12 files (limit 5)" in err.message
    listed = err.message.split("Largest files:")[1]
    assert listed.index("f11.bin (1.2 KiB)") < listed.index("f10.bin") < listed.index("f02.bin")
    assert "f01.bin" not in listed and "f00.bin" not in listed  # only the 10 largest
    assert ".amlignore" in (err.hint or "")
    assert "replaces .gitignore" not in (err.hint or "")  # there is no .gitignore to warn about
    assert MAX_FILES_ENV in (err.hint or "")
    assert err.details["file_count"] == 12
    assert err.details["largest"][0] == {"path": "f11.bin", "size": 1200}


def test_too_many_files_points_at_the_folder_with_most_files(project: Path, write: Write) -> None:
    for i in range(8):
        write(project, f".venv/lib/m{i}.py", b"x")
    write(project, "data/big.bin", b"x" * 5000)
    with pytest.raises(SnapshotTooLarge) as info:
        scan_folder(project, max_files=5)
    assert "Largest folders: .venv/ (8 files, 8 B), data/ (1 file," in info.value.message
    assert "for example '.venv/'" in (info.value.hint or "")


def test_too_many_bytes_names_the_culprit_and_explains_amlignore(project: Path, write: Write) -> None:
    write(project, ".gitignore", "*.log\n")
    write(project, "train.py", b"print(1)\n")
    write(project, "data/weights.bin", b"\0" * 4096)
    with pytest.raises(SnapshotTooLarge) as info:
        scan_folder(project, max_bytes=1024)
    err = info.value
    assert "data/weights.bin (4.0 KiB)" in err.message
    hint = err.hint or ""
    assert "Largest folders: data/ (1 file, 4.0 KiB)" in err.message
    assert "'data/'" in hint and ".amlignore" in hint
    assert "replaces .gitignore" in hint  # the user has only a .gitignore: warn that rules are not merged
    assert MAX_BYTES_ENV in hint
    write(project, ".amlignore", "data/\n")
    assert paths(project, max_bytes=1024) == [".amlignore", ".gitignore", "train.py"]


def test_limits_can_be_raised_or_lowered_by_environment(
    project: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        write(project, f"{i}.txt")
    monkeypatch.setenv(MAX_FILES_ENV, "2")
    with pytest.raises(SnapshotTooLarge):
        scan_folder(project)
    assert len(paths(project, max_files=3)) == 3  # an explicit argument wins over the environment
    monkeypatch.setenv(MAX_FILES_ENV, "lots")
    with pytest.raises(InvalidInput, match=MAX_FILES_ENV):
        scan_folder(project)


# ----------------------------------------------------------------------------------------------- hash cache


def test_rescan_of_unchanged_2000_files_reads_nothing(
    project: Path, tmp_path: Path, write: Write, backdate: Callable[..., None]
) -> None:
    for i in range(2000):
        write(project, f"pkg{i % 20}/mod{i}.py", f"value = {i}\n" * 20)
    backdate(project)
    cache = tmp_path / "cache" / "hashes.json"

    first = scan_folder(project, hash_cache=cache)
    assert len(first.files) == 2000
    assert first.bytes_hashed == first.total_size > 0
    assert cache.is_file()

    second = scan_folder(project, hash_cache=cache)
    assert second.bytes_hashed == 0
    assert second.files == first.files

    # Changing one file's content (same size, new mtime) rehashes exactly that file.
    changed = project / "pkg7/mod7.py"
    changed.write_text("value = 8\n" * 20)
    third = scan_folder(project, hash_cache=cache)
    assert third.bytes_hashed == changed.stat().st_size
    old = {f.path: f.sha256 for f in first.files}
    new = {f.path: f.sha256 for f in third.files}
    assert [p for p in old if old[p] != new[p]] == ["pkg7/mod7.py"]
    assert new["pkg7/mod7.py"] == hashlib.sha256(changed.read_bytes()).hexdigest()


def test_recently_modified_files_are_not_trusted_from_cache(project: Path, tmp_path: Path, write: Write) -> None:
    write(project, "fresh.py", b"x = 1\n")  # mtime is "now": inside the racy window
    cache = tmp_path / "hashes.json"
    scan_folder(project, hash_cache=cache)
    assert scan_folder(project, hash_cache=cache).bytes_hashed == 6


def test_cache_survives_corruption_and_drops_deleted_files(
    project: Path, tmp_path: Path, write: Write, backdate: Callable[..., None]
) -> None:
    write(project, "a.py", b"a")
    write(project, "b.py", b"bb")
    backdate(project)
    cache = tmp_path / "hashes.json"
    cache.write_text("{not json")
    assert scan_folder(project, hash_cache=cache).bytes_hashed == 3
    (project / "b.py").unlink()
    scan_folder(project, hash_cache=cache)
    keys = json.loads(cache.read_text())["entries"]
    assert sorted(os.path.basename(k) for k in keys) == ["a.py"]


def test_cache_file_inside_the_folder_is_not_snapshotted(
    project: Path, write: Write, backdate: Callable[..., None]
) -> None:
    write(project, "train.py")
    backdate(project)
    cache = project / ".aml-hashes.json"
    first = scan_folder(project, hash_cache=cache)
    second = scan_folder(project, hash_cache=cache)
    assert [f.path for f in first.files] == [f.path for f in second.files] == ["train.py"]
    assert second.bytes_hashed == 0
