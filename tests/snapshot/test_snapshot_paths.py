"""validate_relpath and resolve_inside: the one definition of a safe snapshot path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_aml.errors import InvalidInput
from jupyter_aml.snapshot.paths import MAX_PATH_LENGTH, resolve_inside, validate_relpath

# Every way we know to point outside a destination folder, directly or behind encodings.
TRAVERSAL_CORPUS = [
    "",
    ".",
    "./",
    "/etc/passwd",
    "//server/share/x",
    "C:\\x",
    "C:x",
    "C:/x",
    "c:/x",
    "\\\\server\\share\\x",
    "..\\x",
    "a\\b.txt",
    "../x",
    "..",
    "a/..",
    "a/../../x",
    "a/b/../../../x",
    "%2e%2e/x",
    "%2E%2E/x",
    "%2e%2E%2fx",
    "a%2f..%2fb",
    "a%2fb",
    "a%5cb",
    "%5C%5Cserver",
    "%2fetc/passwd",
    "%252e%252e/x",
    "%25252e%25252e/x",
    "a/%2e/b",
    "C%3a/x",
    "x\x00y",
    "x%00y",
]


@pytest.mark.parametrize("path", TRAVERSAL_CORPUS)
def test_traversal_corpus_is_refused_with_the_path_named(path: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate_relpath(path)
    assert repr(path) in info.value.message
    assert info.value.hint


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("train.py", "train.py"),
        ("./src/./model.py", "src/model.py"),
        ("src//model.py", "src/model.py"),
        ("src/", "src"),
        ("my%20file.txt", "my%20file.txt"),  # ordinary percent-escapes are legal file names
        ("100%.txt", "100%.txt"),
        ("...", "..."),
        ("a/..b/c..", "a/..b/c.."),
        ("data/C:x", "data/C:x"),  # a colon is only a drive at the start
        ("ünïcödé/файл.txt", "ünïcödé/файл.txt"),
    ],
)
def test_safe_paths_are_normalised(raw: str, clean: str) -> None:
    assert validate_relpath(raw) == clean


def test_length_limit_is_enforced_on_the_raw_path() -> None:
    assert validate_relpath("a" * MAX_PATH_LENGTH) == "a" * MAX_PATH_LENGTH
    with pytest.raises(InvalidInput, match="1025 characters"):
        validate_relpath("a" * (MAX_PATH_LENGTH + 1))


def test_deeply_nested_encoding_is_refused() -> None:
    nested = "%2e%2e/x"
    for _ in range(12):
        nested = nested.replace("%", "%25")
    with pytest.raises(InvalidInput):
        validate_relpath(nested)


def test_non_string_is_refused() -> None:
    with pytest.raises(InvalidInput, match="string"):
        validate_relpath(b"a.txt")  # type: ignore[arg-type]


def test_resolve_inside_returns_the_real_path(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    assert resolve_inside(root, "./sub/x.txt") == root.resolve() / "sub" / "x.txt"


def test_resolve_inside_follows_symlinks_and_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    sibling = tmp_path / "proj2"  # shares a string prefix with root: startswith() would wrongly allow it
    sibling.mkdir()
    (root / "out").symlink_to(sibling)
    with pytest.raises(InvalidInput) as info:
        resolve_inside(root, "out/secret.txt")
    assert "outside" in info.value.message
    assert "symlink" in (info.value.hint or "")


def test_resolve_inside_accepts_a_root_reached_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "a").mkdir(parents=True)
    alias = tmp_path / "alias"
    alias.symlink_to(real)
    (real / "a" / "inner").symlink_to(real / "a")  # a symlink that stays inside is fine
    assert resolve_inside(alias, "a/inner/f.txt") == real.resolve() / "a" / "f.txt"


def test_resolve_inside_validates_the_relative_path_first(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"'\.\.'"):
        resolve_inside(tmp_path, "../" + os.path.basename(tmp_path))
