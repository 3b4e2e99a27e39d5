"""Reading the push channel: server-sent events parsed into the contract's typed events (stdlib only).

``EventStream`` holds one connection of its own. ``open()`` returns once the server's ``: connected``
comment arrived, i.e. once every later event is queued for this subscriber, so a REST catch-up made
after ``open()`` misses nothing. ``shutdown()`` may be called from any thread and wakes a blocked read.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from jupyter_aml.errors import AMLError
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.http import ServiceClient

__all__ = ["EVENT_TYPES", "EventStream", "SSEMessage", "parse_event", "parse_sse"]

READ_TIMEOUT = 45.0  # the server sends a keep-alive comment every 15 s
CONNECT_TIMEOUT = 10.0
EVENT_TYPES = frozenset({"run", "log", "metric", "files", "model", "webservice"})


@dataclass(frozen=True)
class SSEMessage:
    """One dispatched server-sent event (``data`` lines joined with newlines)."""

    data: str
    event: str = "message"
    id: str | None = None


def parse_sse(lines: Iterator[bytes]) -> Iterator[SSEMessage]:
    """Server-sent events from raw lines (the ``text/event-stream`` format; comments skipped)."""
    data: list[str] = []
    event, last_id = "message", None
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                yield SSEMessage("\n".join(data), event, last_id)
            data, event = [], "message"
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            last_id = value


def parse_event(data: str | bytes) -> T.AMLEvent | None:
    """The typed event of one ``data`` payload; None for anything that is not a known event."""
    try:
        value: Any = json.loads(data)
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("type") not in EVENT_TYPES:
        return None
    return cast(T.AMLEvent, value)


class EventStream:
    """``GET {path}?{params}`` as a stream of typed events."""

    def __init__(self, client: ServiceClient, path: str, params: Any = None, *,
                 read_timeout: float = READ_TIMEOUT) -> None:
        self.client, self.path, self.params, self.read_timeout = client, path, params, read_timeout
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._resp: http.client.HTTPResponse | None = None
        self._closed = False

    def open(self) -> EventStream:
        """Connect and wait for the subscription to be live; raises OSError/HTTPException/AMLError."""
        conn = self.client.open_connection(CONNECT_TIMEOUT)
        with self._lock:
            if self._closed:
                raise OSError("event stream closed")
            self._conn = conn
        headers = {**self.client.auth_headers(), "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        conn.request("GET", self.client.target(self.path, self.params), headers=headers)
        resp = conn.getresponse()
        if resp.status != 200:
            body = resp.read(2000).decode("utf-8", "replace").strip()
            raise AMLError(f"HTTP {resp.status} from the push channel: {body[:300]}")
        with self._lock:
            if self._closed or conn.sock is None:
                raise OSError("event stream closed")
            conn.sock.settimeout(self.read_timeout)
        if not resp.readline():  # ": connected"
            raise OSError("push channel closed before it was ready")
        self._resp = resp
        return self

    def set_read_timeout(self, seconds: float) -> None:
        with self._lock:
            sock = self._conn.sock if self._conn is not None else None
            if sock is not None:
                sock.settimeout(max(0.01, seconds))

    def _lines(self) -> Iterator[bytes]:
        resp = self._resp
        if resp is None:
            return
        while True:
            try:
                raw = resp.readline()
            except (OSError, http.client.HTTPException, ValueError, AttributeError):
                return  # shut down, timed out, or the server went away: the caller reconnects
            if not raw:
                return
            yield raw

    def messages(self) -> Iterator[SSEMessage]:
        return parse_sse(self._lines())

    def __iter__(self) -> Iterator[T.AMLEvent]:
        for message in self.messages():
            event = parse_event(message.data)
            if event is not None:
                yield event

    def shutdown(self) -> None:
        """Any thread: end the stream (a blocked read returns end-of-stream at once)."""
        with self._lock:
            self._closed = True
            sock = self._conn.sock if self._conn is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.shutdown()
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
