"""Content-addressed blob store: files are named by their sha256, so equal content is stored once."""

from __future__ import annotations

import abc
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from jupyter_aml.errors import InvalidInput, NotFound, PayloadTooLarge

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


def check_sha256(value: str) -> str:
    if not isinstance(value, str) or not _SHA256.match(value):
        raise InvalidInput(
            f"{value!r} is not a sha256 hex digest",
            hint="blobs are addressed by the lowercase hex sha256 of their content",
        )
    return value


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    touched: float  # epoch seconds of the last write or existence check


class BlobStore(abc.ABC):
    @abc.abstractmethod
    def has(self, sha256: str) -> bool: ...

    @abc.abstractmethod
    def touch(self, sha256: str) -> bool:
        """Mark the blob as just used (garbage collection spares it for its grace period); False if absent."""

    @abc.abstractmethod
    def stored(self) -> Iterator[StoredBlob]:
        """Every blob, in no particular order."""

    @abc.abstractmethod
    def delete(self, sha256: str, *, untouched_since: float | None = None) -> bool:
        """Remove the blob unless it was touched after ``untouched_since``; False if it was kept or absent."""

    @abc.abstractmethod
    def size(self, sha256: str) -> int: ...

    @abc.abstractmethod
    def put_stream(self, sha256: str, stream: BinaryIO, *, max_bytes: int) -> int:
        """Store the stream under ``sha256``; refuse (and keep nothing) if it hashes differently."""

    @abc.abstractmethod
    def open(self, sha256: str) -> BinaryIO: ...

    def remove_stale_uploads(self, older_than: float) -> int:
        """Remove leftovers of uploads that never finished (e.g. the service died mid-upload); their count."""
        return 0

    def missing(self, hashes: Iterable[str]) -> list[str]:
        """The hashes not stored. The stored ones are touched: a client told they exist will refer to them
        soon, and garbage collection must not take them meanwhile."""
        return [h for h in dict.fromkeys(hashes) if not self.touch(check_sha256(h))]

    def put_bytes(self, data: bytes, *, max_bytes: int | None = None) -> str:
        import io

        sha = hashlib.sha256(data).hexdigest()
        self.put_stream(sha, io.BytesIO(data), max_bytes=max_bytes or len(data))
        return sha


class LocalBlobStore(BlobStore):
    """Blobs as files under ``root/ab/cd/<sha>``, written to a temp file and renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def touch(self, sha256: str) -> bool:
        try:
            os.utime(self._path(sha256))
            return True
        except FileNotFoundError:
            return False

    def stored(self) -> Iterator[StoredBlob]:
        for first in sorted(self.root.iterdir()):
            if len(first.name) != 2 or not first.is_dir():
                continue  # tmp/ and anything else that is not a blob folder
            for path in first.glob("??/*"):
                if _SHA256.match(path.name):
                    with contextlib.suppress(FileNotFoundError):
                        info = path.stat()
                        yield StoredBlob(path.name, info.st_size, info.st_mtime)

    def delete(self, sha256: str, *, untouched_since: float | None = None) -> bool:
        path = self._path(sha256)
        try:
            if untouched_since is not None and path.stat().st_mtime > untouched_since:
                return False
            path.unlink()
            return True
        except FileNotFoundError:
            return False

    def remove_stale_uploads(self, older_than: float) -> int:
        count = 0
        for tmp in (self.root / "tmp").iterdir():
            with contextlib.suppress(FileNotFoundError):
                if tmp.stat().st_mtime < older_than:
                    tmp.unlink()
                    count += 1
        return count

    def size(self, sha256: str) -> int:
        try:
            return self._path(sha256).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"blob {sha256} not found", hint="upload it first") from None

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self._path(sha256).open("rb")
        except FileNotFoundError:
            raise NotFound(f"blob {sha256} not found", hint="upload it first") from None

    def put_stream(self, sha256: str, stream: BinaryIO, *, max_bytes: int) -> int:
        target = self._path(sha256)
        if self.touch(sha256):
            return target.stat().st_size
        digest = hashlib.sha256()
        total = 0
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        raise PayloadTooLarge(
                            f"blob {sha256} is larger than the {max_bytes} byte limit",
                            hint="raise JUPYTER_AML_MAX_UPLOAD_BYTES or upload a smaller file",
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha256:
                raise InvalidInput(
                    f"uploaded content hashes to {digest.hexdigest()}, not {sha256}",
                    hint="the upload was corrupted or the wrong hash was named; retry the upload",
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            return total
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
