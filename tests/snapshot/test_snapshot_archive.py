"""write_zip / safe_extract_zip (the extractor the run agent uses): round trips and hostile archives."""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

from jupyter_aml.errors import InvalidInput, SnapshotTooLarge
from jupyter_aml.snapshot.archive import safe_extract_zip, write_zip
from jupyter_aml.snapshot.scan import scan_folder

Write = Callable[..., Path]
Listing = Callable[[Path], list[str]]
LIMITS: dict[str, Any] = {"max_total_bytes": 10 * 1024 * 1024, "max_files": 100}


def opener(path: Path) -> Callable[[], IO[bytes]]:
    def _open() -> IO[bytes]:
        return open(path, "rb")  # write_zip closes it

    return _open


def zip_from_folder(root: Path) -> bytes:
    scan = scan_folder(root)
    buf = io.BytesIO()
    write_zip(((f.path, f.mode, opener(f.abspath)) for f in scan.files), buf)
    return buf.getvalue()


def hostile_zip(path: Path, members: list[tuple[str, bytes] | tuple[str, bytes, int]]) -> Path:
    """Write a zip with raw member names; a third item is the Unix st_mode (e.g. a symlink)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, which we want
        with zipfile.ZipFile(path, "w") as zf:
            for member in members:
                info = zipfile.ZipInfo(member[0])
                info.create_system = 3
                info.external_attr = (member[2] if len(member) == 3 else stat.S_IFREG | 0o644) << 16
                zf.writestr(info, member[1])
    return path


def link(target: str) -> tuple[bytes, int]:
    return target.encode(), stat.S_IFLNK | 0o777


def refused(
    tmp_path: Path,
    listing: Listing,
    zpath: Path,
    error: type[Exception] | tuple[type[Exception], ...] = InvalidInput,
    match: str | None = None,
    limits: dict[str, Any] = LIMITS,
) -> pytest.ExceptionInfo[Exception]:
    """Extract ``zpath`` into ``tmp_path/dest``, expect ``error``, and check the refusal left nothing behind."""
    before = listing(tmp_path)
    dest = tmp_path / "dest"
    with pytest.raises(error, match=match) as info:
        safe_extract_zip(zpath, dest, **limits)
    assert not dest.exists()
    assert listing(tmp_path) == before, "refusal left partial files behind"
    return info


# ----------------------------------------------------------------------------------------------- round trip


def test_zip_round_trip_keeps_content_and_exec_bit(tmp_path: Path, write: Write) -> None:
    src = tmp_path / "src"
    write(src, "train.py", "print('hi')\n")
    write(src, "run.sh", "#!/bin/sh\n", mode=0o755)
    write(src, "data/empty.txt", b"")
    write(src, "deep/a/b/c.bin", os.urandom(300_000))
    zpath = tmp_path / "snap.zip"
    zpath.write_bytes(zip_from_folder(src))

    dest = tmp_path / "out" / "run1"
    names = safe_extract_zip(zpath, dest, **LIMITS)
    assert names == ["data/empty.txt", "deep/a/b/c.bin", "run.sh", "train.py"]
    for rel in names:
        assert (dest / rel).read_bytes() == (src / rel).read_bytes()
    assert os.stat(dest / "run.sh").st_mode & 0o111
    assert not os.stat(dest / "train.py").st_mode & 0o111
    assert [p.name for p in dest.parent.iterdir()] == ["run1"]  # staging folder is gone


def test_zip_bytes_are_deterministic_and_stream_to_unseekable_output(tmp_path: Path, write: Write) -> None:
    write(tmp_path / "src", "a.txt", "a" * 1000)
    write(tmp_path / "src", "b/c.txt", "c")
    first, second = zip_from_folder(tmp_path / "src"), zip_from_folder(tmp_path / "src")
    assert first == second

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            self.data += bytes(b)
            return len(b)

    out = Unseekable()
    rows = [("x/y.txt", 0o644, lambda: io.BytesIO(b"stream")), ("z.sh", 0o755, lambda: io.BytesIO(b"#!"))]
    assert write_zip(rows, out) == 2  # type: ignore[arg-type]
    dest = tmp_path / "dest"
    assert safe_extract_zip(io.BytesIO(bytes(out.data)), dest, **LIMITS) == ["x/y.txt", "z.sh"]
    assert (dest / "x" / "y.txt").read_bytes() == b"stream"
    assert os.stat(dest / "z.sh").st_mode & 0o111


def test_write_zip_refuses_unsafe_and_duplicate_names() -> None:
    with pytest.raises(InvalidInput, match=r"'\.\.'"):
        write_zip([("../x", 0o644, lambda: io.BytesIO(b""))], io.BytesIO())
    with pytest.raises(InvalidInput, match="twice"):
        write_zip([("a", 0o644, lambda: io.BytesIO(b"")), ("./a", 0o644, lambda: io.BytesIO(b""))], io.BytesIO())


# --------------------------------------------------------------------------------------------- hostile zips


@pytest.mark.parametrize(
    "name",
    [
        "/etc/evil",
        "../evil",
        "../evil.py",
        "a/../../evil",
        "a/./../../x",
        "..\\evil",
        "a\\..\\evil",
        "%2e%2e/evil",
        "%252e%252e/evil",
        "C:/evil",
        "C:evil",
    ],
)
def test_traversal_members_are_refused_before_anything_is_written(tmp_path: Path, listing: Listing, name: str) -> None:
    zpath = hostile_zip(tmp_path / "evil.zip", [("benign.txt", b"ok"), (name, b"pwned")])
    info = refused(tmp_path, listing, zpath)
    assert isinstance(info.value, InvalidInput) and repr(name) in info.value.message
    assert not (tmp_path.parent / "evil").exists()


@pytest.mark.parametrize("name", ["a//b", "./", "./a.txt", "a/./b"])
def test_non_canonical_member_names_are_refused(tmp_path: Path, listing: Listing, name: str) -> None:
    # write_zip only writes canonical names, so one that needs normalising means the archive is not ours
    zpath = hostile_zip(tmp_path / "odd.zip", [("benign.txt", b"ok"), (name, b"x")])
    refused(tmp_path, listing, zpath)


def test_folder_members_and_exec_bits_from_raw_modes(tmp_path: Path) -> None:
    zpath = hostile_zip(tmp_path / "s.zip", [("train.py", b"print(1)", stat.S_IFREG | 0o644),
                                             ("pkg/", b"", stat.S_IFDIR | 0o755),
                                             ("pkg/run.sh", b"#!/bin/sh", stat.S_IFREG | 0o755),
                                             ("a/b/c.txt", b"c", stat.S_IFREG | 0o644)])
    dest = tmp_path / "wd"
    assert safe_extract_zip(zpath, dest, **LIMITS) == ["a/b/c.txt", "pkg/run.sh", "train.py"]
    assert (dest / "train.py").read_bytes() == b"print(1)"
    assert (dest / "pkg" / "run.sh").stat().st_mode & stat.S_IXUSR
    assert not (dest / "train.py").stat().st_mode & stat.S_IXUSR
    assert (dest / "a" / "b" / "c.txt").read_text() == "c"


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "x/../../../y", "C:/x", "..\\x"])
def test_symlink_member_escaping_is_refused(tmp_path: Path, listing: Listing, target: str) -> None:
    data, mode = link(target)
    zpath = hostile_zip(tmp_path / "evil.zip", [("ok.txt", b"ok"), ("sub/ln", data, mode)])
    refused(tmp_path, listing, zpath, match="sub/ln")


def test_symlink_chain_escaping_on_real_paths_is_refused(tmp_path: Path, listing: Listing) -> None:
    # 'up' -> '.' is harmless, and 'esc' -> 'up/..' normalises lexically to '.', but really resolves to
    # the parent of the extraction folder: only the real-path check catches it.
    zpath = hostile_zip(tmp_path / "evil.zip", [("up", *link(".")), ("esc", *link("up/.."))])
    refused(tmp_path, listing, zpath, match="esc")


@pytest.mark.parametrize("below", [("d/x.txt", b"through the link"), ("d/sub/", b"")])
def test_member_below_a_symlink_member_is_refused(tmp_path: Path, listing: Listing, below: tuple[str, bytes]) -> None:
    zpath = hostile_zip(tmp_path / "evil.zip", [("d", *link("sub")), below])
    refused(tmp_path, listing, zpath, match="lies under 'd'")


def test_symlink_member_staying_inside_is_recreated(tmp_path: Path) -> None:
    zpath = hostile_zip(tmp_path / "ok.zip", [("conf/real.yaml", b"lr: 1\n"), ("cur.yaml", *link("conf/real.yaml"))])
    dest = tmp_path / "dest"
    assert safe_extract_zip(zpath, dest, **LIMITS) == ["conf/real.yaml", "cur.yaml"]
    assert os.readlink(dest / "cur.yaml") == "conf/real.yaml"
    assert (dest / "cur.yaml").read_bytes() == b"lr: 1\n"


@pytest.mark.parametrize("second", ["a.txt", "./a.txt", "x/../a.txt"])
def test_duplicate_members_are_refused(tmp_path: Path, listing: Listing, second: str) -> None:
    zpath = hostile_zip(tmp_path / "dup.zip", [("a.txt", b"first"), (second, b"second")])
    refused(tmp_path, listing, zpath)


def test_zip_bomb_by_declared_size_leaves_nothing(tmp_path: Path, listing: Listing) -> None:
    zpath = tmp_path / "bomb.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("small.txt", b"ok")
        zf.writestr("zeros.bin", b"\0" * (20 * 1024 * 1024))
    assert zpath.stat().st_size < 100_000
    bomb_limits = {"max_total_bytes": 1024 * 1024, "max_files": 10}
    refused(tmp_path, listing, zpath, SnapshotTooLarge, match=r"limit 1\.0 MiB", limits=bomb_limits)


def test_zip_with_lying_size_headers_is_refused_and_cleaned_up(tmp_path: Path, listing: Listing) -> None:
    payload = b"A" * (512 * 1024)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("first.txt", b"written before the bad member")
        zf.writestr("liar.bin", payload)
    liar = zipfile.ZipFile(io.BytesIO(buf.getvalue())).getinfo("liar.bin")
    data = bytearray(buf.getvalue())
    # Patch liar.bin's uncompressed size to 10 bytes in its local header and its central directory entry
    # (the last one), so the declared total passes the limit while the real content does not.
    struct.pack_into("<I", data, liar.header_offset + 22, 10)
    struct.pack_into("<I", data, data.rindex(b"PK\x01\x02") + 24, 10)
    assert zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("liar.bin").file_size == 10
    zpath = tmp_path / "liar.zip"
    zpath.write_bytes(bytes(data))
    refused(tmp_path, listing, zpath, (InvalidInput, SnapshotTooLarge),
            limits={"max_total_bytes": 1024, "max_files": 10})


def test_too_many_members_is_refused(tmp_path: Path, listing: Listing) -> None:
    zpath = hostile_zip(tmp_path / "many.zip", [(f"f{i}.txt", b"") for i in range(11)])
    refused(tmp_path, listing, zpath, SnapshotTooLarge, match="11 entries",
            limits={"max_total_bytes": None, "max_files": 10})


def test_not_a_zip_is_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"not a zip at all")
    with pytest.raises(InvalidInput, match="zip"):
        safe_extract_zip(tmp_path / "x.zip", tmp_path / "dest", **LIMITS)
    assert not (tmp_path / "dest").exists()


def test_symlinks_already_in_or_at_the_destination_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    zpath = hostile_zip(tmp_path / "s.zip", [("sub/x.py", b"x")])
    wd = tmp_path / "wd"
    wd.mkdir()
    (wd / "sub").symlink_to(outside)  # left by someone else: extraction must not write through it
    with pytest.raises(InvalidInput, match="not empty"):
        safe_extract_zip(zpath, wd, **LIMITS)
    linked = tmp_path / "linked"
    linked.symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInput, match="not a folder"):
        safe_extract_zip(zpath, linked, **LIMITS)
    assert list(outside.iterdir()) == []


def test_destination_must_be_new_or_empty(tmp_path: Path, write: Write) -> None:
    zpath = hostile_zip(tmp_path / "ok.zip", [("a.txt", b"new")])
    busy = tmp_path / "busy"
    write(busy, "a.txt", b"old")
    with pytest.raises(InvalidInput, match="not empty"):
        safe_extract_zip(zpath, busy, **LIMITS)
    assert (busy / "a.txt").read_bytes() == b"old"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert safe_extract_zip(zpath, empty, **LIMITS) == ["a.txt"]
    assert (empty / "a.txt").read_bytes() == b"new"
