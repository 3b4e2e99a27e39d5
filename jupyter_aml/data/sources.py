"""What a dataset's paths point at: ``(datastore, glob)`` pairs and http(s) URLs, resolved to files.

The service resolves them to fingerprint a version (sizes and mtimes, or ETags: never a copy of the data) and
to read previews and profiles; the client resolves them the same way to read the data itself, straight from
the storage. ``location_of`` turns a datastore name into its ``StoreLocation``: the service asks its datastore
registry, the client the datastore route. URLs are read with fsspec's http file system.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import posixpath
import socket
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import fsspec

from jupyter_aml.data import storage
from jupyter_aml.data.storage import FileInfo, StoreLocation
from jupyter_aml.data.tabular import Source
from jupyter_aml.errors import InvalidInput, NotFound

LocationOf = Callable[[str], StoreLocation]


@dataclass(frozen=True)
class ResolvedFile:
    """One file of a dataset: where it is (``datastore`` + ``path``, or ``url``), how to read it, its fingerprint."""

    source: Source
    info: FileInfo
    datastore: str | None = None
    url: str | None = None

    @property
    def display(self) -> str:
        return self.source.display


def check_paths(paths: Sequence[Mapping[str, Any]]) -> None:
    """Each path is ``{"datastore", "path"}`` or ``{"url"}`` (http or https); v1 refuses a mix of both."""
    if not paths:
        raise InvalidInput("a dataset needs at least one path",
                           hint="e.g. path=[(datastore, 'data/**/*.csv')] or an https:// URL")
    kinds = set()
    for p in paths:
        if p.get("url") is not None:
            try:
                parts = urllib.parse.urlsplit(str(p["url"]))
                scheme = parts.scheme
                parts.port  # noqa: B018  (raises for a port that is not a number from 0 to 65535)
            except ValueError as exc:  # 'https://[x': an unclosed IPv6 bracket, a bad port
                raise InvalidInput(f"URL {p['url']!r} is not a valid URL ({exc})",
                                   hint="e.g. https://example.com/data/train.csv") from None
            if scheme in ("http", "https") and not parts.hostname:
                raise InvalidInput(f"URL {p['url']!r} names no host", hint="e.g. https://example.com/data/train.csv")
            if scheme not in ("http", "https"):
                raise InvalidInput(f"URL {p['url']!r} is not http(s)",
                                   hint="read other stores through a registered datastore: (datastore, 'path')")
            kinds.add("url")
        elif p.get("datastore"):
            storage._parts(str(p.get("path") or ""), what="dataset path")  # '..' and absolute refused now
            kinds.add("datastore")
        else:
            raise InvalidInput(f"dataset path {dict(p)!r} names neither a datastore nor a URL")
    if len(kinds) > 1:
        raise InvalidInput("a dataset's paths are either datastore paths or URLs, not both (as in v1)",
                           hint="make two datasets")


URL_TIMEOUT = 30.0  # seconds for an http(s) path's server to answer


def _http() -> fsspec.AbstractFileSystem:
    import aiohttp

    return fsspec.filesystem("http", client_kwargs={"timeout": aiohttp.ClientTimeout(total=URL_TIMEOUT)})


def _check_host(url: str) -> None:
    """Refuse a URL whose host is link-local (169.254.0.0/16, fe80::/10: cloud metadata endpoints answer there)
    or unspecified: the service reads dataset URLs itself, and must not hand such answers back as rows.
    Loopback and private addresses stay allowed: a self-hosted workspace reads data from its own network."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise InvalidInput(f"{url}: the host {host!r} is not known ({exc})", hint="check the URL") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address.is_link_local or address.is_unspecified or address.is_multicast:
            raise InvalidInput(f"{url}: {host} is a link-local or unspecified address ({address}), which datasets "
                               "may not read", hint="serve the data from a routable address or a datastore")


def _url_file(url: str) -> ResolvedFile:
    _check_host(url)
    fs = _http()
    try:
        info = fs.info(url)
    except FileNotFoundError:
        raise NotFound(f"{url} is not there (HTTP 404)", hint="check the URL") from None
    except Exception as exc:  # aiohttp's errors: the URL's fault (400), never a 500
        raise InvalidInput(f"{url} could not be read: {type(exc).__name__}: {exc}",
                           hint="check the URL and that its server answers") from None
    mark = next((str(info[k]) for k in ("ETag", "Content-MD5", "Digest", "Last-Modified") if info.get(k)), "")
    size = int(info.get("size") or 0)
    fingerprint = f"{mark.strip(chr(34))}-{size}" if mark else f"size-{size}"
    return ResolvedFile(Source(fs, url, url), FileInfo(url, size, fingerprint), url=url)


def _joined(loc: StoreLocation, relative: str) -> str:
    """The full path of a file ``list_files`` found: it checked containment already (``storage.resolve`` would
    resolve every symlink again, which dominates the listing of 10,000 files)."""
    if loc.protocol == "file":
        return os.path.join(loc.root, *relative.split("/"))
    return posixpath.join(loc.root.rstrip("/"), relative)


def resolve(paths: Sequence[Mapping[str, Any]], location_of: LocationOf) -> list[ResolvedFile]:
    """Every file the paths name, in the paths' order (each path's files sorted); NotFound naming the path
    when one matches nothing, so that a typo never becomes an empty dataset."""
    check_paths(paths)
    out: list[ResolvedFile] = []
    seen: set[tuple[str | None, str]] = set()
    locations: dict[str, tuple[StoreLocation, fsspec.AbstractFileSystem]] = {}
    for p in paths:
        if p.get("url") is not None:
            resolved = _url_file(str(p["url"]))
            key: tuple[str | None, str] = (None, resolved.info.path)
            if key not in seen:
                seen.add(key)
                out.append(resolved)
            continue
        name, pattern = str(p["datastore"]), str(p.get("path") or "")
        if name not in locations:
            loc = location_of(name)
            locations[name] = (loc, storage.filesystem(loc))
        loc, fs = locations[name]
        try:
            infos = storage.list_files(loc, pattern)
        except NotFound as exc:
            if p.get("optional"):
                continue
            raise NotFound(f"path {pattern!r} on datastore {name!r} matches no file", hint=exc.hint) from None
        for info in infos:
            key = (name, info.path)
            if key in seen:
                continue
            seen.add(key)
            full = _joined(loc, info.path)
            out.append(ResolvedFile(Source(fs, full, f"{name}/{info.path}"), info, datastore=name))
    return out


def fingerprint(files: Sequence[ResolvedFile]) -> str:
    """One sha256 over every file's name, size and fingerprint: it changes when any file does."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(json.dumps([f.datastore, f.info.path, f.info.size, f.info.fingerprint]).encode() + b"\n")
    return digest.hexdigest()


def definition_hash(definition: Mapping[str, Any]) -> str:
    """The identity of a definition: the same paths, reader options and steps hash the same."""
    return hashlib.sha256(json.dumps(definition, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
