"""What a page's text says its reader already has, provided for that page before its blocks run.

A page that works on the reader's own data says which files it expects (``./data`` with a CSV in it, an
``extra/`` folder) and which S3-compatible store, through environment variables (``LAKE_ENDPOINT_URL``,
``LAKE_ACCESS_KEY_ID``, ``LAKE_SECRET_ACCESS_KEY``) and the bucket it names. They are not the ``AWS_*`` names
on purpose: botocore reads those by itself, so a service that lost a datastore's stored keys would still get
in with them and the page would hide the bug. Here the
files are written into the page's working folder, and the store is a real S3-protocol server (moto's server
mode, tests/data/s3.py, with IAM authentication on, so wrong keys are refused) started for that page alone,
with the page's bucket made on it. The blocks themselves are run unchanged.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.data import s3

TITANIC = ("PassengerId,Survived,Pclass,Name,Age,Fare\n1,0,3,Braund,22,7.25\n2,1,1,Cumings,38,71.28\n"
           "3,1,3,Heikkinen,26,7.92\n4,1,1,Futrelle,35,53.1\n5,0,3,Allen,35,8.05\n6,0,3,Moran,,8.46\n"
           "7,0,1,McCarthy,54,51.86\n8,0,3,Palsson,2,21.08\n9,1,3,Johnson,27,11.13\n10,1,2,Nasser,14,30.07\n")


class Setup:
    """A page's extra files and environment, and what to stop when the page is done."""

    def __init__(self, work: Path, tmp: Path, env: dict[str, str]) -> None:
        self.work, self.tmp, self.env = work, tmp, env
        self._stops: list[Callable[[], None]] = []

    def write(self, relative: str, text: str) -> None:
        path = self.work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def s3(self, *buckets: str, objects: dict[str, bytes] | None = None) -> None:
        """An S3 server for this page, its endpoint and keys in the page's LAKE_* variables, ``buckets`` made
        and ``objects`` ({"bucket/key": content}) put in them."""
        proc, server = s3.start(self.tmp / "moto_server.log")
        self._stops.append(lambda: s3.stop(proc))
        client = server.client()
        for bucket in buckets:
            client.create_bucket(Bucket=bucket)
        for name, content in (objects or {}).items():
            bucket, _, key = name.partition("/")
            client.put_object(Bucket=bucket, Key=key, Body=content)
        self.env.update(LAKE_ENDPOINT_URL=server.endpoint_url, LAKE_ACCESS_KEY_ID=server.access_key,
                        LAKE_SECRET_ACCESS_KEY=server.secret_key)

    def stop(self) -> None:
        for stop in reversed(self._stops):
            stop()


def datastores(page: Setup) -> None:
    page.write("data/train.csv", "x,y\n1,2\n3,4\n")
    page.write("data/more/test.csv", "x,y\n5,6\n")
    page.write("extra/a.csv", "x,y\n7,8\n")
    page.write("extra/b.csv", "x,y\n9,10\n")
    (page.work / "team-data").mkdir()
    page.s3("ml-data")


def png(shade: int) -> bytes:
    """A 2x2 grey PNG: a real image file, as the page's images/ folder holds."""
    raw = b"".join(b"\x00" + bytes([shade]) * 2 for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def datasets(page: Setup) -> None:
    page.write("data/titanic.csv", TITANIC)
    page.s3("pics", objects={"pics/images/cats/a.png": png(40), "pics/images/cats/c.png": png(90),
                             "pics/images/dogs/b.png": png(200), "pics/images/notes.txt": b"not an image"})


def datasets_in_runs(page: Setup) -> None:
    (page.work / "data" / "images").mkdir(parents=True)
    for n, shade in enumerate([40, 90, 200]):
        (page.work / "data" / "images" / f"{n}.png").write_bytes(png(shade))
    page.write("data/labels.csv", "file,label\n0.png,cat\n1.png,cat\n2.png,dog\n")


def models(page: Setup) -> None:
    (page.work / "exported" / "bert").mkdir(parents=True)
    (page.work / "exported" / "model.onnx").write_bytes(b"\x08\x07onnx-model-bytes")
    page.write("exported/bert/config.json", '{"hidden_size": 64}\n')
    (page.work / "exported" / "bert" / "weights.bin").write_bytes(bytes(range(256)) * 4)


def snapshots(page: Setup) -> None:
    """The proj/ tree the page draws."""
    page.write("proj/.gitignore", "*.pkl\n")
    page.write("proj/.amlignore", "data/\noutputs/\n")
    page.write("proj/train.py", "print('train')\n")
    page.write("proj/src/model.py", "MODEL = 1\n")
    (page.work / "proj" / "src" / "__pycache__").mkdir()
    (page.work / "proj" / "src" / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"\x00" * 16)
    page.write("proj/data/train.csv", "x,y\n" + "0.123456,1\n" * 45_000)
    (page.work / "proj" / "outputs").mkdir()
    (page.work / "proj" / "outputs" / "model.pkl").write_bytes(b"\x80\x04N.")
    page.write("proj/debug.log", "started\n")


def keyvault(page: Setup) -> None:
    """The values the reader would type at the page's getpass prompts, and its key.txt."""
    page.env.update(DB_PASSWORD="correct horse battery staple", API_KEY="k-3f9a")
    page.write("key.txt", "k-3f9a\n")


SETUPS: dict[str, Callable[[Setup], None]] = {
    "datastores.md": datastores,
    "datasets.md": datasets,
    "datasets-in-runs.md": datasets_in_runs,
    "models.md": models,
    "snapshots.md": snapshots,
    "keyvault.md": keyvault,
}


def prepare(page_name: str, work: Path, tmp: Path, env: dict[str, str]) -> Setup:
    setup = Setup(work, tmp, env)
    try:
        SETUPS.get(page_name, lambda _: None)(setup)
    except BaseException:
        setup.stop()
        raise
    return setup
