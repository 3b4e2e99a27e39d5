"""A small JSON-over-HTTP client built on ``http.client`` (stdlib only).

Used by the run agent, by the SDK inside scripts and by the SDK in notebooks. One keep-alive connection
per thread (and per process: a forked child opens its own), ``Authorization: Bearer <token>``, typed
errors rebuilt from ``{"error": {...}}`` bodies, ``ServiceUnavailable`` when the service cannot be
reached, and opt-in retries with exponential backoff for calls the caller knows are idempotent. A 503 or 429
that says ``Retry-After`` (a held write lock, too many uploads at once) is retried after the server's wait,
capped at ``MAX_RETRY_AFTER``, not after the client's own backoff.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json as _json
import math
import os
import random
import select
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from jupyter_aml.errors import (
    ERRORS_BY_CODE,
    AMLError,
    Busy,
    ServiceUnavailable,
    error_from_dict,
)

_loads: Callable[[bytes], Any]
try:  # optional: much faster decoding of large responses (metric histories) when the environment has it
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - a run environment without orjson
    _loads = _json.loads

__all__ = ["MAX_RETRY_AFTER", "ServiceClient", "backoff_delays"]

# The longest wait a server's Retry-After gets from this client: a misconfigured or hostile "come back in an
# hour" does not stall a run's reporting for an hour; the retry budget then decides whether to give up.
MAX_RETRY_AFTER = 30.0

_ERRORS_BY_STATUS: dict[int, type[AMLError]] = {}
for _cls in ERRORS_BY_CODE.values():
    _ERRORS_BY_STATUS.setdefault(_cls.status, _cls)
_ERRORS_BY_STATUS[503] = ServiceUnavailable  # a bare 503 (proxy, restart) is retryable
_ERRORS_BY_STATUS.pop(429, None)  # a bare 429 is some proxy's rate limit, not this service's quota
_RETRY_AFTER_STATUS = {429, 503}
_RETRYABLE_STATUS = {502, 503, 504}
_IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
_CHUNK = 1 << 20
_NETWORK_ERRORS = (OSError, http.client.HTTPException)


def backoff_delays(first: float = 0.25, cap: float = 5.0) -> Iterator[float]:
    """Endless exponential backoff with +-20% jitter: 0.25, 0.5, 1, 2, 4, 5, 5, ..."""
    delay = first
    while True:
        yield delay * random.uniform(0.8, 1.2)
        delay = min(cap, delay * 2)


def _encode_params(params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> str:
    if not params:
        return ""
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item is None:
                continue
            pairs.append((key, ("true" if item else "false") if isinstance(item, bool) else str(item)))
    return urllib.parse.urlencode(pairs)


class ServiceClient:
    """JSON client for the REST API rooted at ``base_url`` (e.g. ``http://127.0.0.1:8888/aml/api/v1``).

    ``retry`` (an int, default 0) is how many times a call is retried after ``ServiceUnavailable``
    (connection refused/reset, timeouts, 502/503/504 without a typed body) with exponential backoff, or
    after ``Busy`` (a 503/429 with ``Retry-After``) once the server's wait (at most ``MAX_RETRY_AFTER`` s)
    has passed. Pass it per call only for idempotent calls (GET, PUT of a blob, journal posts with seq numbers).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 30.0,
        *,
        retry: int = 0,
        auth_scheme: str = "Bearer",
        headers: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port or (443 if self._https else 80)
        self._prefix = parsed.path
        self.timeout = timeout
        self.retry = retry
        self._ssl_context = ssl_context
        self._headers = {"Accept": "application/json", "User-Agent": "jupyter-aml-runtime"}
        if token:
            self._headers["Authorization"] = f"{auth_scheme} {token}"
        if headers:
            self._headers.update(headers)
        self._local = threading.local()
        self._all_lock = threading.Lock()
        self._all: list[http.client.HTTPConnection] = []

    # -- public verbs ---------------------------------------------------------------------------
    def get(self, path: str, *, params: Any = None, **kw: Any) -> Any:
        return self.request("GET", path, params=params, **kw)

    def post(self, path: str, json: Any = None, *, params: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json=json, params=params, **kw)

    def put(self, path: str, json: Any = None, *, params: Any = None, **kw: Any) -> Any:
        return self.request("PUT", path, json=json, params=params, **kw)

    def patch(self, path: str, json: Any = None, *, params: Any = None, **kw: Any) -> Any:
        return self.request("PATCH", path, json=json, params=params, **kw)

    def delete(self, path: str, *, params: Any = None, **kw: Any) -> Any:
        return self.request("DELETE", path, params=params, **kw)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        data: bytes | None = None,
        file: IO[bytes] | str | os.PathLike[str] | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        retry: int | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON body, raw bytes for other types, None when empty.

        Exactly one of ``json`` (encoded here), ``data`` (raw bytes) and ``file`` (a binary file object
        or a path, streamed) may be given. Errors are raised as typed ``AMLError`` subclasses.
        """
        method = method.upper()
        hdrs = dict(headers or {})
        body: bytes | IO[bytes] | None = None
        own_file: IO[bytes] | None = None
        if sum(x is not None for x in (json, data, file)) > 1:
            raise ValueError("pass only one of json=, data=, file=")
        if json is not None:
            body = _json.dumps(json, separators=(",", ":")).encode()
            hdrs.setdefault("Content-Type", content_type or "application/json")
        elif data is not None:
            body = bytes(data)
            hdrs.setdefault("Content-Type", content_type or "application/octet-stream")
        elif file is not None:
            if isinstance(file, (str, os.PathLike)):
                body = own_file = open(file, "rb")  # noqa: SIM115 - closed below
            else:
                body = file
            hdrs.setdefault("Content-Type", content_type or "application/octet-stream")
        try:
            return self._send(method, path, params, body, hdrs, retry, timeout, None)
        finally:
            if own_file is not None:
                own_file.close()

    def stream_download(
        self,
        path: str,
        dest_file: IO[bytes] | str | os.PathLike[str],
        *,
        params: Any = None,
        retry: int | None = None,
    ) -> int:
        """GET ``path`` and write the body to ``dest_file`` (path or binary file); return the byte count.

        A path is written through a temporary sibling and renamed, so a failed download leaves nothing.
        """
        if isinstance(dest_file, (str, os.PathLike)):
            dest = Path(dest_file)
            tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
            try:
                with open(tmp, "wb") as fh:
                    size = self._send("GET", path, params, None, {}, retry, None, fh)
                os.replace(tmp, dest)
                return int(size)
            finally:
                tmp.unlink(missing_ok=True)
        return int(self._send("GET", path, params, None, {}, retry, None, dest_file))

    def open_connection(self, timeout: float) -> http.client.HTTPConnection:
        """A connection of the caller's own (not pooled), e.g. for a long-lived event stream."""
        if self._https:
            ctx = self._ssl_context or ssl.create_default_context()
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def target(self, path: str, params: Any = None) -> str:
        """The request target (prefix, path and query) of ``path`` on this service."""
        return self._url(path, params)

    def auth_headers(self) -> dict[str, str]:
        return {k: v for k, v in self._headers.items() if k.lower() == "authorization"}

    def close_thread_connection(self) -> None:
        """Close the calling thread's pooled connection (a thread that is done with the service, e.g. a
        notebook view's feed, leaves no idle socket behind); the next call on this thread opens a new one."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._drop(conn)

    def close(self) -> None:
        """Close every connection this client opened (any thread)."""
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()
        self._local = threading.local()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------
    def _url(self, path: str, params: Any) -> str:
        if not path.startswith("/"):
            path = "/" + path
        query = _encode_params(params)
        return self._prefix + path + ("?" + query if query else "")

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection and whether it is being reused (True) or fresh (False)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            sock = conn.sock
            if sock is not None and not _peer_closed(sock):
                return conn, True
            self._drop(conn)
        if self._https:
            ctx = self._ssl_context or ssl.create_default_context()
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=ctx, blocksize=_CHUNK
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout, blocksize=_CHUNK)
        self._local.conn, self._local.pid = conn, os.getpid()
        with self._all_lock:
            self._all.append(conn)
        return conn, False

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        if getattr(self._local, "pid", None) == os.getpid():
            with contextlib.suppress(OSError):
                conn.close()
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)

    def _send(
        self,
        method: str,
        path: str,
        params: Any,
        body: bytes | IO[bytes] | None,
        headers: dict[str, str],
        retry: int | None,
        timeout: float | None,
        sink: IO[bytes] | None,
    ) -> Any:
        url = self._url(path, params)
        hdrs = {**self._headers, **headers}
        start = body.tell() if body is not None and not isinstance(body, bytes) else 0
        if body is not None and not isinstance(body, bytes):
            hdrs["Content-Length"] = str(_remaining(body))
        elif body is not None:
            hdrs["Content-Length"] = str(len(body))
        elif method in ("POST", "PUT", "PATCH"):
            hdrs["Content-Length"] = "0"
        sink_start = sink.tell() if sink is not None and sink.seekable() else None

        def rewind() -> None:
            if body is not None and not isinstance(body, bytes):
                body.seek(start)
            if sink_start is not None and sink is not None:
                sink.seek(sink_start)
                sink.truncate()

        attempts = (self.retry if retry is None else retry) + 1
        delays = iter(backoff_delays())
        wait: float | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(next(delays) if wait is None else wait)
                rewind()
            try:
                return self._once(method, url, body, hdrs, timeout, sink, rewind)
            except ServiceUnavailable as exc:
                if attempt + 1 >= attempts:
                    raise
                # The server said how long it needs (Busy carries its Retry-After): wait that, within the cap.
                wait = min(MAX_RETRY_AFTER, float(exc.retry_after)) if isinstance(exc, Busy) else None
        raise AssertionError("unreachable")

    def _once(
        self,
        method: str,
        url: str,
        body: bytes | IO[bytes] | None,
        hdrs: dict[str, str],
        timeout: float | None,
        sink: IO[bytes] | None,
        rewind: Any,
    ) -> Any:
        for first in (True, False):
            conn, reused = self._connection()
            try:
                if conn.sock is None:
                    conn.connect()
                conn.sock.settimeout(self.timeout if timeout is None else timeout)
                conn.request(method, url, body=body, headers=hdrs)
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop(conn)
                # A keep-alive connection the server closed under us: resend once if that is safe.
                if reused and first and method in _IDEMPOTENT:
                    rewind()
                    continue
                return self._unavailable(exc)
            except _NETWORK_ERRORS as exc:
                self._drop(conn)
                return self._unavailable(exc)
            try:
                return self._read(resp, conn, sink)
            except _NETWORK_ERRORS as exc:
                self._drop(conn)
                return self._unavailable(exc)
        raise AssertionError("unreachable")

    def _unavailable(self, exc: BaseException) -> Any:
        target = f"{self._host}:{self._port}"
        raise ServiceUnavailable(
            f"cannot reach the jupyter-aml service at {target}: {exc.__class__.__name__}: {exc}",
            hint="is the service running? calls are retried where they are safe to repeat",
        ) from exc

    def _read(self, resp: http.client.HTTPResponse, conn: http.client.HTTPConnection,
              sink: IO[bytes] | None) -> Any:
        status = resp.status
        ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if status < 400 and sink is not None:
            total = 0
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                sink.write(chunk)
                total += len(chunk)
            if resp.will_close:
                self._drop(conn)
            return total
        raw = resp.read()
        if resp.will_close:
            self._drop(conn)
        if status >= 400:
            err = self._error(status, raw, ctype)
            wait = _retry_after(resp.getheader("Retry-After")) if status in _RETRY_AFTER_STATUS else None
            if wait is not None:
                raise _busy(err, status, wait)
            raise err
        if not raw:
            return None
        if ctype.endswith("json"):
            return _loads(raw)
        return raw

    def _error(self, status: int, raw: bytes, ctype: str) -> AMLError:
        body: Any = None
        if raw:
            try:
                body = _json.loads(raw)
            except ValueError:
                body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return error_from_dict(body["error"], status)
        cls = _ERRORS_BY_STATUS.get(status) or (ServiceUnavailable if status in _RETRYABLE_STATUS else AMLError)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
        else:
            message = raw[:300].decode("utf-8", "replace").strip() or http.client.responses.get(status, "")
        err = cls(f"HTTP {status}: {message}")
        if cls is AMLError:
            err.status = status
        return err


def _retry_after(value: str | None) -> int | None:
    """Seconds a ``Retry-After`` header asks for (delay-seconds or an HTTP-date, RFC 9110), None if absent or
    unreadable; a date in the past is 0."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return int(value) if len(value) <= 12 else 10**12  # "forever" either way: the cap applies later
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # not an HTTP-date (those are always GMT)
    return max(0, math.ceil(when.timestamp() - time.time()))


def _busy(err: AMLError, status: int, wait: int) -> Busy:
    """The error of a 503/429 that said Retry-After, as ``Busy`` carrying the server's wait."""
    if isinstance(err, Busy):
        err.retry_after = wait
        return err
    busy = Busy(err.message, hint=err.hint or f"retry after {wait} s", details=err.details, retry_after=wait)
    busy.status = status
    return busy


def _peer_closed(sock: socket.socket) -> bool:
    """True when an idle keep-alive socket was closed by the server (readable with EOF or error)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _remaining(body: IO[bytes]) -> int:
    pos = body.tell()
    end = body.seek(0, os.SEEK_END)
    body.seek(pos)
    return end - pos
