"""The fsspec storage layer against a local folder and a real S3-protocol server (moto, IAM auth on)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from jupyter_aml.data import storage
from jupyter_aml.data.storage import StoreLocation, StoreUnavailable
from jupyter_aml.errors import Forbidden, InvalidInput, NotFound
from tests.data.s3 import S3Server


def _tree(base: Path) -> Path:
    (base / "sub" / "deeper").mkdir(parents=True)
    (base / "a.csv").write_text("x,y\n1,2\n")
    (base / "sub" / "b.csv").write_text("x,y\n3,4\n")
    (base / "sub" / "deeper" / "c.txt").write_text("hello")
    return base


@pytest.fixture
def local(tmp_path: Path) -> StoreLocation:
    root = tmp_path / "store"
    root.mkdir()
    return StoreLocation("file", str(root), {})


@pytest.fixture
def s3loc(s3_server: S3Server, s3_bucket: str) -> StoreLocation:
    return StoreLocation("s3", f"{s3_bucket}/prefix", s3_server.storage_options())


@pytest.fixture(params=["local", "s3"])
def loc(request: pytest.FixtureRequest) -> StoreLocation:
    return request.getfixturevalue("local" if request.param == "local" else "s3loc")  # type: ignore[no-any-return]


def test_upload_list_download_round_trip(loc: StoreLocation, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    seen: list[tuple[int, int]] = []
    written = storage.upload(loc, src, "data", overwrite=False, progress=lambda d, t: seen.append((d, t)))
    assert written == ["data/a.csv", "data/sub/b.csv", "data/sub/deeper/c.txt"]
    total = sum(f.stat().st_size for f in src.rglob("*") if f.is_file())
    assert seen[-1] == (total, total)

    files = storage.list_files(loc, "data/**/*.csv")
    assert [f.path for f in files] == ["data/a.csv", "data/sub/b.csv"]
    assert [f.size for f in files] == [8, 8]
    assert [f.path for f in storage.list_files(loc, "data/sub")] == ["data/sub/b.csv", "data/sub/deeper/c.txt"]
    assert [f.path for f in storage.list_files(loc, "data/a.csv")] == ["data/a.csv"]
    assert len(storage.list_files(loc, "")) == 3

    out = tmp_path / "out"
    got = storage.download(loc, "data/sub", out, overwrite=False)
    assert sorted(p.relative_to(out).as_posix() for p in got) == ["data/sub/b.csv", "data/sub/deeper/c.txt"]
    assert (out / "data" / "sub" / "deeper" / "c.txt").read_text() == "hello"
    with storage.open_file(loc, "data/a.csv") as handle:
        assert handle.read() == b"x,y\n1,2\n"


def test_overwrite_false_keeps_what_is_there(loc: StoreLocation, tmp_path: Path) -> None:
    src = tmp_path / "one.txt"
    src.write_text("first")
    assert storage.upload(loc, src, "", overwrite=False, progress=None) == ["one.txt"]
    src.write_text("second")
    assert storage.upload(loc, src, "", overwrite=False, progress=None) == []
    out = tmp_path / "out"
    storage.download(loc, "one.txt", out, overwrite=False)
    assert (out / "one.txt").read_text() == "first"
    assert storage.upload(loc, src, "", overwrite=True, progress=None) == ["one.txt"]
    assert storage.download(loc, "one.txt", out, overwrite=False) == []  # the local copy is kept
    assert (out / "one.txt").read_text() == "first"
    storage.download(loc, "one.txt", out, overwrite=True)
    assert (out / "one.txt").read_text() == "second"


def test_fingerprint_changes_with_content(loc: StoreLocation, tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_text("one")
    storage.upload(loc, src, "", overwrite=False, progress=None)
    before = storage.list_files(loc, "f.txt")[0].fingerprint
    time.sleep(0.01)
    src.write_text("two!")
    storage.upload(loc, src, "", overwrite=True, progress=None)
    after = storage.list_files(loc, "f.txt")[0].fingerprint
    assert before and after and before != after
    assert storage.list_files(loc, "f.txt")[0].fingerprint == after  # stable while unchanged


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/passwd", "s3://other/x"])
def test_paths_escaping_the_root_are_refused(loc: StoreLocation, tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInput):
        storage.resolve(loc, bad)
    with pytest.raises(InvalidInput):
        storage.list_files(loc, bad)
    src = tmp_path / "f.txt"
    src.write_text("x")
    with pytest.raises(InvalidInput):
        storage.upload(loc, src, bad, overwrite=True, progress=None)
    with pytest.raises(InvalidInput):
        storage.download(loc, bad, tmp_path / "out", overwrite=True)


def test_a_symlink_out_of_a_local_root_is_refused(local: StoreLocation, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not yours")
    root = Path(local.root)
    (root / "ok.txt").write_text("fine")
    os.symlink(outside, root / "link")
    os.symlink(outside / "secret.txt", root / "file-link")
    for path in ("link", "link/secret.txt", "file-link"):
        with pytest.raises(InvalidInput, match="symbolic link"):
            storage.resolve(local, path)
    with pytest.raises(InvalidInput, match="symbolic link"):
        storage.list_files(local, "**")
    with pytest.raises(InvalidInput):
        storage.open_file(local, "link/secret.txt")
    src = tmp_path / "new.txt"
    src.write_text("x")
    with pytest.raises(InvalidInput):
        storage.upload(local, src, "link", overwrite=True, progress=None)
    assert not (outside / "new.txt").exists()
    # a link that stays inside is fine
    os.symlink(root / "ok.txt", root / "inner-link")
    assert storage.resolve(local, "inner-link").endswith("inner-link")


def test_a_bad_glob_is_invalid_input(loc: StoreLocation) -> None:
    for bad in ("***", "a/**b"):
        with pytest.raises(InvalidInput, match="not a valid glob"):
            storage.list_files(loc, bad)


def test_a_glob_matching_nothing_is_not_found(loc: StoreLocation, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="matches nothing"):
        storage.list_files(loc, "nothing/**/*.csv")
    src = tmp_path / "f.txt"
    src.write_text("x")
    storage.upload(loc, src, "", overwrite=False, progress=None)
    with pytest.raises(NotFound, match="matches nothing"):
        storage.list_files(loc, "*.parquet")
    with pytest.raises(NotFound, match="matches nothing"):
        storage.download(loc, "missing", tmp_path / "out", overwrite=False)


def test_wrong_credentials_name_the_store_and_not_the_secret(s3_server: S3Server, s3_bucket: str) -> None:
    secret = "wrong-secret-value-1234"
    for key in ("unknown-access-key", s3_server.access_key):
        options = {**s3_server.storage_options(), "key": key, "secret": secret}
        bad = StoreLocation("s3", s3_bucket, options)
        with pytest.raises(Forbidden, match="refused") as info:
            storage.probe(bad)
        text = str(info.value) + repr(info.value.to_dict())
        assert s3_bucket in text
        assert secret not in text
        assert secret not in repr(bad)
    storage.probe(StoreLocation("s3", s3_bucket, s3_server.storage_options()))  # the right ones work


def test_an_unreachable_store_is_a_clear_error() -> None:
    loc = StoreLocation("s3", "bucket", {"key": "key-id-1234", "secret": "s-e-c-r-e-t",
                                         "endpoint_url": "http://127.0.0.1:9"})
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as info:
        storage.probe(loc)
    assert time.monotonic() - started < 30  # few retries when registering: a wrong address fails quickly
    text = str(info.value)
    assert "s3://bucket" in text and "127.0.0.1:9" in text  # the address stays readable
    assert "s-e-c-r-e-t" not in text


def test_abfs_needs_adlfs_and_says_so() -> None:
    with pytest.raises(InvalidInput, match="pip install adlfs"):
        storage.filesystem(StoreLocation("abfs", "container", {"account_name": "a", "account_key": "k"}))
    with pytest.raises(InvalidInput, match="not supported"):
        storage.filesystem(StoreLocation("ftp", "x", {}))


def test_a_local_root_must_be_an_absolute_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="absolute"):
        storage.resolve(StoreLocation("file", "relative/folder", {}), "x")
    with pytest.raises(NotFound, match="not an existing folder"):
        storage.probe(StoreLocation("file", str(tmp_path / "missing"), {}))


def test_download_refuses_keys_that_land_outside_dest(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    s3_server.client().put_object(Bucket=s3_bucket, Key="p/../../escape.txt", Body=b"x")
    loc = StoreLocation("s3", s3_bucket, s3_server.storage_options())
    with pytest.raises(InvalidInput):
        storage.download(loc, "", tmp_path / "out", overwrite=True)
    assert not (tmp_path / "escape.txt").exists()
