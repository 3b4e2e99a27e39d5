"""The one storage layer every datastore kind goes through: an fsspec file system plus a root.

A ``StoreLocation`` says where a datastore's files are (``file`` for the workspace's own blob store and local
folders, ``s3`` for S3-compatible object stores, ``abfs`` for Azure Blob through adlfs); this module lists,
uploads and downloads through fsspec, so there is no hand-written client per kind. The service (core/) and the
client (sdk/) both use it, so it imports neither the store nor the server.

Containment is the point of ``resolve``: a relative path may not climb out of the root with ``..``, may not be
absolute, and (for local folders) may not pass through a symlink that lands outside the root; the check is made
on the resolved path, never with ``startswith`` on strings. Credentials travel in ``options`` and never appear
in a repr or an error message: ``describe`` is the safe name of a location, and errors from the storage
libraries are scrubbed of every option value before they are shown.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import posixpath
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

import fsspec
from fsspec.callbacks import Callback

from jupyter_aml.errors import AMLError, Forbidden, InvalidInput, NotFound, UserError

# protocol -> the package that implements it (None: built into fsspec)
PROTOCOLS: dict[str, str | None] = {"file": None, "s3": "s3fs", "abfs": "adlfs"}
_GLOB_CHARS = frozenset("*?[")

Progress = Callable[[int, int], None]  # (bytes done, bytes in total)


class StoreUnavailable(UserError):
    """The store a request names cannot be reached or failed (a wrong endpoint_url, a server that is down).

    A 400, as ``ComputeUnavailable`` is: the request names that store, and the service itself is fine, so
    clients must not wait it out as they wait out a busy service (503)."""

    code, status = "StoreUnavailable", 400


@dataclass(frozen=True)
class StoreLocation:
    """Where a datastore's files are. ``options`` are fsspec storage options, credentials included: they are
    left out of repr, equality and hashing, and never shown (``describe`` is the printable name)."""

    protocol: str  # "file" | "s3" | "abfs"
    root: str  # absolute folder (file), or "bucket/prefix" (object stores)
    options: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def describe(self) -> str:
        """The location without credentials: ``s3://bucket/prefix`` or the folder."""
        return self.root if self.protocol == "file" else f"{self.protocol}://{self.root}"


@dataclass(frozen=True)
class FileInfo:
    path: str  # relative to the location's root, '/'-separated
    size: int
    fingerprint: str  # mtime_ns+size for files, ETag for object stores: changes when the content does


def check_protocol(protocol: str) -> None:
    """InvalidInput for an unknown protocol or one whose implementation package is not installed (naming the
    package to install), rather than an ImportError from deep inside fsspec."""
    if protocol not in PROTOCOLS:
        raise InvalidInput(
            f"storage protocol {protocol!r} is not supported",
            hint=f"use one of {', '.join(sorted(PROTOCOLS))}",
        )
    package = PROTOCOLS[protocol]
    if package is not None and importlib.util.find_spec(package) is None:
        raise InvalidInput(
            f"the {protocol!r} storage protocol needs the {package} package, which is not installed here",
            hint=f"install it into the service's and the client's environment: pip install {package}",
        )


def filesystem(loc: StoreLocation) -> fsspec.AbstractFileSystem:
    """The fsspec file system of ``loc`` (see ``check_protocol`` for what is refused)."""
    check_protocol(loc.protocol)
    options = dict(loc.options)
    if loc.protocol == "s3":
        # listings are not cached: a fingerprint must see another writer's change at once
        options.setdefault("use_listings_cache", False)
    with _translated(loc, "open"):
        return fsspec.filesystem(loc.protocol, **options)


def _parts(relative: str, *, what: str = "path") -> list[str]:
    """The '/'-separated segments of a relative path; '..' and absolute paths are refused."""
    text = relative.replace("\\", "/") if os.sep == "\\" else relative
    if text.startswith("/") or "://" in text or (len(text) > 1 and text[1] == ":" and text[0].isalpha()):
        raise InvalidInput(
            f"{what} {relative!r} is absolute; datastore paths are relative to the datastore's root",
            hint="drop the leading '/' (or the drive / protocol) and give the path inside the datastore",
        )
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidInput(
            f"{what} {relative!r} escapes the datastore's root with '..'",
            hint="give a path inside the datastore, without '..'",
        )
    return parts


def _root(loc: StoreLocation) -> str:
    root = loc.root.rstrip("/")
    if loc.protocol == "file":
        if not os.path.isabs(root):
            raise InvalidInput(f"a local datastore's root must be an absolute folder, not {loc.root!r}")
        return str(Path(root))
    return root


def _check_inside(loc: StoreLocation, full: str, relative: str) -> None:
    """For local folders: the resolved path (symlinks followed) must stay under the resolved root."""
    if loc.protocol != "file":
        return
    real_root = Path(_root(loc)).resolve()
    real = Path(full).resolve()
    if real != real_root and not real.is_relative_to(real_root):
        raise InvalidInput(
            f"path {relative!r} leads outside the datastore's root through a symbolic link",
            hint="datastores only serve files under their own folder; copy the file in instead of linking it",
        )


class _Containment:
    """``_check_inside`` for many files of one listing: each folder is resolved once (a listing of 10,000
    files in 100 folders resolves 100 paths, not 10,000), and a file only when it is itself a link."""

    def __init__(self, loc: StoreLocation) -> None:
        self.loc = loc
        self.local = loc.protocol == "file"
        self.real_root = Path(_root(loc)).resolve() if self.local else None
        self.folders: dict[str, bool] = {}

    def check(self, full: str, relative: str, is_link: bool) -> None:
        if not self.local:
            return
        folder = os.path.dirname(full)
        ok = self.folders.get(folder)
        if ok is None:
            assert self.real_root is not None
            real = Path(folder).resolve()
            ok = self.folders[folder] = real == self.real_root or real.is_relative_to(self.real_root)
        if not ok or is_link:
            _check_inside(self.loc, full, relative)


def resolve(loc: StoreLocation, relative: str) -> str:
    """The full fsspec path of ``relative`` inside ``loc``; InvalidInput for '..', absolute paths and (local
    folders) symlinks whose target is outside the root."""
    parts = _parts(relative)
    root = _root(loc)
    full = posixpath.join(root, *parts) if parts else root
    if loc.protocol == "file":
        full = str(Path(root, *parts))
    _check_inside(loc, full, relative)
    return full


def describe(loc: StoreLocation, relative: str = "") -> str:
    """A printable name of ``relative`` inside ``loc``, with no credentials."""
    parts = _parts(relative) if relative else []
    return posixpath.join(loc.describe(), *parts) if parts else loc.describe()


def _scrub(text: str, loc: StoreLocation) -> str:
    """``text`` with every credential-looking option value masked: library errors may quote what they got."""
    for value in _secret_values(loc.options):
        text = text.replace(value, "***")
    return text


_SECRET_OPTIONS = frozenset({
    "key", "secret", "token", "password", "account_key", "sas_token", "connection_string", "client_secret",
    "credential", "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "session_token",
})


def _secret_values(options: Any, secret: bool = False) -> Iterator[str]:
    """The credential values among fsspec options (the endpoint or region stay readable in errors)."""
    if isinstance(options, dict):
        for name, value in options.items():
            yield from _secret_values(value, secret or str(name).lower() in _SECRET_OPTIONS)
    elif secret and isinstance(options, str) and len(options) >= 4:  # shorter ones would mangle every message
        yield options


@contextlib.contextmanager
def _translated(loc: StoreLocation, doing: str) -> Iterator[None]:
    """Errors of the storage libraries as the project's typed errors, naming the store and never a secret."""
    try:
        yield
    except AMLError:
        raise
    except FileNotFoundError as exc:
        raise NotFound(f"{doing}: not found in {loc.describe()}: {_scrub(str(exc), loc)}") from None
    except PermissionError as exc:
        raise Forbidden(
            f"{doing}: access to {loc.describe()} was refused ({_scrub(str(exc), loc)})",
            hint="check the datastore's credentials and their permissions on this bucket or folder",
        ) from None
    except (OSError, ValueError, TypeError) as exc:
        raise StoreUnavailable(
            f"{doing}: {loc.describe()} failed: {type(exc).__name__}: {_scrub(str(exc), loc)}",
            hint="check the store's address (endpoint_url), that it is running, and the credentials",
        ) from None
    except Exception as exc:  # botocore / aiohttp errors that are no OSError: still never a bare 500
        if type(exc).__module__.split(".")[0] not in ("botocore", "aiobotocore", "aiohttp", "azure", "adlfs"):
            raise
        raise StoreUnavailable(
            f"{doing}: {loc.describe()} failed: {type(exc).__name__}: {_scrub(str(exc), loc)}",
            hint="check the store's address, credentials and permissions",
        ) from None


def _relative_of(loc: StoreLocation, fs: fsspec.AbstractFileSystem, full: str) -> str:
    root = str(fs._strip_protocol(_root(loc))).rstrip("/")  # fsspec's own normal form of a path
    name = str(fs._strip_protocol(full))
    if name == root:
        return posixpath.basename(name)
    if not name.startswith(root + "/"):
        raise InvalidInput(f"{name!r} is not inside {loc.describe()}")
    return name[len(root) + 1 :]


def _fingerprint(loc: StoreLocation, full: str, info: dict[str, Any]) -> str:
    if loc.protocol == "file":
        st = os.stat(full)
        return f"{st.st_mtime_ns}-{st.st_size}"
    for key in ("ETag", "etag"):
        if info.get(key):
            return str(info[key]).strip('"')
    for key in ("LastModified", "last_modified", "mtime"):
        if info.get(key):
            return f"{info[key]}-{info.get('size', 0)}"
    return f"size-{info.get('size', 0)}"


def list_files(loc: StoreLocation, pattern: str) -> list[FileInfo]:
    """The files ``pattern`` names, sorted by path: a glob (``**`` crosses folders), a file, or a folder (all
    files under it); '' is the whole datastore. NotFound "matches nothing" when there are none, so a typo in
    a dataset's path is an error, not an empty dataset."""
    parts = _parts(pattern, what="pattern")
    fs = filesystem(loc)
    root = _root(loc)
    is_glob = any(ch in _GLOB_CHARS for ch in pattern)
    found: dict[str, dict[str, Any]] = {}
    with _translated(loc, f"listing {describe(loc, pattern)}"):
        if is_glob:
            full = posixpath.join(fs._strip_protocol(root), *parts)
            try:
                matches = fs.glob(full, detail=True)
            except ValueError as exc:  # fsspec's own pattern rules ('**' only as a whole path component)
                raise InvalidInput(f"{pattern!r} is not a valid glob: {exc}",
                                   hint="use '**' as a whole folder name, e.g. 'data/**/*.csv'") from None
        else:
            full = resolve(loc, pattern)
            matches = {full: fs.info(full)} if fs.exists(full) else {}
        for name, info in matches.items():
            if info.get("type") == "directory":
                found.update(
                    {n: i for n, i in fs.find(name, detail=True).items() if i.get("type") != "directory"}
                )
            else:
                found[name] = info
    files: list[FileInfo] = []
    inside = _Containment(loc)
    for name, info in found.items():
        relative = _relative_of(loc, fs, name)
        if relative in ("", "."):
            continue
        inside.check(name, relative, bool(info.get("islink")))
        files.append(FileInfo(relative, int(info.get("size") or 0), _fingerprint(loc, name, info)))
    if not files:
        raise NotFound(
            f"{pattern or '(the whole datastore)'!r} matches nothing in {loc.describe()}",
            hint="check the path and glob (use '**' to match across folders); list the datastore's files to see "
            "what is there",
        )
    return sorted(files, key=lambda f: f.path)


class _Forward(Callback):  # type: ignore[misc]
    """fsspec's byte callback forwarded to ``progress(done, total)`` across many files."""

    def __init__(self, progress: Progress | None, done: int, total: int) -> None:
        super().__init__()
        self._progress, self._base, self._total = progress, done, total

    def call(self, *args: Any, **kwargs: Any) -> None:
        if self._progress is not None:
            self._progress(self._base + min(int(self.value or 0), int(self.size or self.value or 0)), self._total)


def upload_pairs(
    loc: StoreLocation, pairs: Sequence[tuple[Path, str]], *, overwrite: bool, progress: Progress | None = None
) -> list[str]:
    """Upload each local file to its relative target path. Existing targets are skipped unless ``overwrite``
    (as v1 does); every target is checked before the first byte moves. Returns the targets written."""
    fs = filesystem(loc)
    planned: list[tuple[Path, str, str]] = []
    for src, target in pairs:
        if not src.is_file():
            raise NotFound(f"{src} is not a file", hint="give existing files to upload")
        relative = "/".join(_parts(target, what="target path"))
        if not relative:
            raise InvalidInput("an upload's target path names no file", hint="give the file's path in the datastore")
        planned.append((src, relative, resolve(loc, target)))
    total = sum(src.stat().st_size for src, _, _ in planned)
    done, written = 0, []
    for src, relative, full in planned:
        with _translated(loc, f"uploading to {describe(loc, relative)}"):
            if not overwrite and fs.exists(full):
                done += src.stat().st_size
                continue
            size = src.stat().st_size
            if loc.protocol == "file":
                Path(full).parent.mkdir(parents=True, exist_ok=True)
                _check_inside(loc, full, relative)  # the folders just made may not lead out either
                tmp = f"{full}.part-{secrets.token_hex(4)}"
                try:
                    fs.put_file(str(src), tmp, callback=_Forward(progress, done, total))
                    os.replace(tmp, full)
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
            else:
                fs.put_file(str(src), full, callback=_Forward(progress, done, total))
            done += size
            written.append(relative)
        if progress is not None:
            progress(done, total)
    return written


def upload(
    loc: StoreLocation, src: Path, target: str, *, overwrite: bool, progress: Progress | None = None
) -> list[str]:
    """Upload a file or a folder's files (recursively) under ``target`` ('' is the root): ``src/a/b.txt``
    becomes ``target/a/b.txt``, a single file ``target/<its name>``. Returns the relative paths written."""
    base = "/".join(_parts(target, what="target path"))
    src = Path(src)
    if src.is_file():
        pairs = [(src, posixpath.join(base, src.name) if base else src.name)]
    elif src.is_dir():
        pairs = [
            (f, posixpath.join(base, f.relative_to(src).as_posix()) if base else f.relative_to(src).as_posix())
            for f in sorted(src.rglob("*"))
            if f.is_file()
        ]
    else:
        raise NotFound(f"{src} does not exist", hint="give an existing file or folder to upload")
    return upload_pairs(loc, pairs, overwrite=overwrite, progress=progress)


def download(
    loc: StoreLocation, prefix: str, dest: Path, *, overwrite: bool, progress: Progress | None = None
) -> list[Path]:
    """Download the files ``prefix`` names (as ``list_files``: a folder, a file or a glob; '' for all) into
    ``dest``, keeping their paths relative to the datastore's root (v1's layout). Existing local files are
    kept unless ``overwrite``. Object keys that would land outside ``dest`` are refused."""
    files = list_files(loc, prefix)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    real_dest = dest.resolve()
    planned: list[tuple[FileInfo, Path]] = []
    for info in files:
        local = dest.joinpath(*PurePosixPath(info.path).parts)
        if not local.resolve().is_relative_to(real_dest):
            raise InvalidInput(f"{info.path!r} in {loc.describe()} would be written outside {dest}")
        planned.append((info, local))
    fs = filesystem(loc)
    total = sum(info.size for info in files)
    done, written = 0, []
    for info, local in planned:
        if local.exists() and not overwrite:
            done += info.size
            continue
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.part-{secrets.token_hex(4)}")
        with _translated(loc, f"downloading {describe(loc, info.path)}"):
            try:
                fs.get_file(resolve(loc, info.path), str(tmp), callback=_Forward(progress, done, total))
                os.replace(tmp, local)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        done += info.size
        written.append(local)
        if progress is not None:
            progress(done, total)
    return written


def open_file(loc: StoreLocation, relative: str, mode: str = "rb") -> IO[bytes]:
    """A binary file object of ``relative`` inside ``loc`` (for the service streaming a file to a client that
    cannot reach the store itself). Writing goes straight to the target; callers write whole files."""
    if mode not in ("rb", "wb"):
        raise InvalidInput(f"mode {mode!r}: only 'rb' and 'wb'")
    full = resolve(loc, relative)
    fs = filesystem(loc)
    with _translated(loc, f"opening {describe(loc, relative)}"):
        if mode == "wb" and loc.protocol == "file":
            Path(full).parent.mkdir(parents=True, exist_ok=True)
            _check_inside(loc, full, relative)
        elif mode == "rb" and not fs.isfile(full):
            raise NotFound(f"{describe(loc, relative)} is not a file in the datastore")
        handle: IO[bytes] = fs.open(full, mode)
        return handle


def exists(loc: StoreLocation, relative: str) -> bool:
    full = resolve(loc, relative)
    with _translated(loc, f"checking {describe(loc, relative)}"):
        return bool(filesystem(loc).exists(full))


def probe(loc: StoreLocation) -> None:
    """List the root once, so that wrong credentials or a wrong address fail here (at registration), with an
    error that names the store and never the secret. A local folder must exist and be a folder. An object
    store is asked with few retries and short timeouts: a wrong address fails in seconds, not minutes."""
    if loc.protocol == "s3":
        config = {"connect_timeout": 5, "read_timeout": 20, "retries": {"max_attempts": 1},
                  **(loc.options.get("config_kwargs") or {})}
        loc = StoreLocation(loc.protocol, loc.root, {**loc.options, "config_kwargs": config})
    fs = filesystem(loc)
    if loc.protocol == "s3":
        fs.retries = 1  # s3fs's own retries, on top of botocore's (an instance for probes only: its options differ)
    root = _root(loc)
    with _translated(loc, f"checking datastore {loc.describe()}"):
        if loc.protocol == "file":
            if not Path(root).is_dir():
                raise NotFound(f"{root} is not an existing folder", hint="create it, or give an existing folder")
            os.listdir(root)
        else:
            try:
                fs.ls(root, detail=False)
            except FileNotFoundError:
                if "/" not in root:
                    raise
                fs.ls(root.split("/", 1)[0], detail=False)  # a prefix nothing is under yet: the bucket must be there


def make_bucket(loc: StoreLocation) -> None:
    """Create the bucket (or container) of an object-store location if it is not there yet."""
    region = (loc.options.get("client_kwargs") or {}).get("region_name")
    if loc.protocol == "s3" and region == "us-east-1":
        # S3 refuses a LocationConstraint of us-east-1 (its default region), which s3fs would send
        kwargs = {k: v for k, v in loc.options["client_kwargs"].items() if k != "region_name"}
        loc = StoreLocation(loc.protocol, loc.root, {**loc.options, "client_kwargs": kwargs})
    fs = filesystem(loc)
    bucket = _root(loc).split("/", 1)[0]
    with _translated(loc, f"creating {loc.protocol}://{bucket}"):
        if not fs.exists(bucket):
            fs.mkdir(bucket)
