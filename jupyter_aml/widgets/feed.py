"""The live feed of one run: one background thread that follows the service's push channel.

Order of work, so that nothing logged before the feed started is missed and nothing is counted twice:

1. open ``GET {service}/events?workspace=W&run_id=R[&run_id=CHILD...]`` (server-sent events) and wait for
   the server's ``: connected`` comment: from then on every event for the run is queued for us;
2. catch up from REST (run record, child runs, each scalar metric's history, logs, files);
3. apply the queued and following events. ``RunState`` drops what the catch-up already had.

The thread ends when the run reaches a final status (after one last REST reconcile) or when ``stop()`` is
called: ``stop()`` shuts the streaming socket down, which wakes the blocked read at once. A broken stream
(service restarted) is reopened with backoff and followed by a fresh catch-up; so is the stream when a new
child run appears, to follow the child's metrics too (the parent's subscription carries only its status).
Stdlib only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from jupyter_aml.errors import AMLError, NotFound
from jupyter_aml.runtime.http import ServiceClient, backoff_delays
from jupyter_aml.widgets.state import RunState

log = logging.getLogger(__name__)

HISTORY_POINTS = 2000
READ_TIMEOUT = 45.0  # the server sends a keep-alive comment every 15 s
CONNECT_TIMEOUT = 10.0
MAX_FOLLOWED_CHILDREN = 100  # run_id parameters on the push channel's URL

OnChange = Callable[[set[str]], None]


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class RunFeed:
    """Keeps ``state`` up to date for ``run_id`` and calls ``on_change(parts)`` from its thread."""

    def __init__(
        self,
        client: ServiceClient,
        workspace: str,
        run_id: str,
        state: RunState | None = None,
        on_change: OnChange | None = None,
        *,
        history_points: int = HISTORY_POINTS,
    ) -> None:
        # A client of our own: its connections belong to this feed and are closed with it.
        self._client = ServiceClient(client.base_url, timeout=30.0, headers=_auth_headers(client),
                                     ssl_context=getattr(client, "_ssl_context", None))
        self._base_url = client.base_url
        self._headers = _auth_headers(client)
        self._ssl_context = getattr(client, "_ssl_context", None)
        self.workspace = workspace
        self.run_id = run_id
        self.state = state or RunState(run_id)
        self.on_change = on_change
        self.history_points = history_points
        self.events_received = 0
        self.resubscriptions = 0
        self._subscribed: set[str] | None = set()  # None: the whole workspace
        self.connected = threading.Event()  # set while the push channel is open
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._conn_lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> RunFeed:
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name=f"aml-run-feed-{self.run_id}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._shutdown_stream()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive

    # -- the thread -------------------------------------------------------------------------------------
    def _main(self) -> None:
        delays = backoff_delays(0.5, 10.0)
        ended_by_event = False
        try:
            while not self._stop.is_set():
                try:
                    stream = self._open_stream()
                except (OSError, http.client.HTTPException, AMLError) as exc:
                    stream = None
                    self._set_error(f"live updates unavailable ({exc}); showing what the service has")
                try:
                    self._notify(self._catch_up())
                except NotFound as exc:
                    self._set_error(str(exc))
                    return
                except AMLError as exc:
                    self._set_error(f"cannot reach the service: {exc}")
                if self.state.terminal:
                    break
                resubscribe = False
                if stream is not None:
                    self._set_error(None)
                    delays = backoff_delays(0.5, 10.0)
                    for event in stream:
                        self.events_received += 1
                        self._notify(self.state.apply(event))
                        if self.state.terminal or self._stop.is_set():
                            break
                        if self._subscribed is not None and not self._subscribed.issuperset(self.state.children):
                            resubscribe = True  # a new child run: follow its metrics too
                            break
                    if self.state.terminal:
                        ended_by_event = True
                        break
                self._close_stream()
                self.connected.clear()
                if resubscribe:
                    self.resubscriptions += 1
                    continue  # the new stream's catch-up covers what the old one had not delivered
                if self._stop.wait(next(delays)):
                    break
            if ended_by_event and not self._stop.is_set():  # one last reconcile: files, children's metrics
                with contextlib.suppress(AMLError):
                    self._notify(self._catch_up())
        except Exception as exc:  # a bug must not kill the kernel's output silently
            log.exception("run feed for %s failed", self.run_id)
            self._set_error(f"live updates stopped: {exc.__class__.__name__}: {exc}")
        finally:
            self._close_stream()
            self.connected.clear()
            self._client.close()
            self.finished.set()

    def _notify(self, changed: set[str]) -> None:
        if changed and self.on_change is not None and not self._stop.is_set():
            try:
                self.on_change(changed)
            except Exception:
                log.exception("run view update failed")

    def _set_error(self, message: str | None) -> None:
        if self.state.error != message:
            self.state.error = message
            self._notify({"run"})

    # -- REST catch-up ----------------------------------------------------------------------------------
    def _path(self, *parts: str) -> str:
        return "/".join(["workspaces", _q(self.workspace), "runs", _q(self.run_id), *parts])

    def _catch_up(self) -> set[str]:
        """Everything the service holds for the run now; ``state`` drops what it already had."""
        st, client = self.state, self._client
        changed = st.load_run(client.get(self._path()))
        changed |= st.load_children(client.get(self._path("children"))["items"])
        summaries = client.get(self._path("metrics"), params={"recursive": "true"})["items"]
        changed |= st.load_summaries(summaries)
        for item in summaries:
            if item["run_id"] != self.run_id or item.get("kind") != "scalar":
                continue
            series = st.series.get(item["name"])
            if series is not None and series.total >= int(item.get("count") or 0):
                continue  # nothing new (events already brought every point)
            history = client.get(self._path("metrics", _q(item["name"])), params={"max_points": self.history_points})
            changed |= st.load_metric_history(item["name"], history)
        after = st.last_log_id
        while True:
            page = client.get(self._path("logs"), params={"after": after, "limit": 5000})
            changed |= st.load_logs(page["items"])
            if len(page["items"]) < 5000:
                break
            after = page["last_id"]
        changed |= st.load_files(client.get(self._path("files"))["items"])
        return changed

    # -- the push channel ---------------------------------------------------------------------------
    def _open_stream(self) -> Iterator[dict[str, Any]]:
        parsed = urllib.parse.urlsplit(self._base_url)
        host, port = parsed.hostname or "127.0.0.1", parsed.port
        conn: http.client.HTTPConnection
        if parsed.scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=CONNECT_TIMEOUT,
                                               context=self._ssl_context or ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT)
        with self._conn_lock:
            if self._stop.is_set():
                raise OSError("stopped")
            self._conn = conn
        # The run and its known child runs (the service also sends a child's status changes, not its
        # metrics, to the parent's subscribers). Past MAX_FOLLOWED_CHILDREN: the whole workspace, filtered here.
        children = sorted(self.state.children)
        params: list[tuple[str, str]] = [("workspace", self.workspace)]
        if len(children) <= MAX_FOLLOWED_CHILDREN:
            params += [("run_id", rid) for rid in [self.run_id, *children]]
            self._subscribed = {self.run_id, *children}
        else:
            self._subscribed = None
        query = urllib.parse.urlencode(params)
        conn.request("GET", f"{parsed.path.rstrip('/')}/events?{query}",
                     headers={**self._headers, "Accept": "text/event-stream", "Cache-Control": "no-cache"})
        resp = conn.getresponse()
        if resp.status != 200:
            body = resp.read(2000).decode("utf-8", "replace")
            raise AMLError(f"HTTP {resp.status} from the push channel: {body.strip()[:300]}")
        with self._conn_lock:
            if self._stop.is_set() or conn.sock is None:
                raise OSError("stopped")
            conn.sock.settimeout(READ_TIMEOUT)
        first = resp.readline()  # ": connected": we are subscribed from here on
        if not first:
            raise OSError("push channel closed before it was ready")
        self.connected.set()
        return self._events(resp)

    def _events(self, resp: http.client.HTTPResponse) -> Iterator[dict[str, Any]]:
        data: list[str] = []
        while not self._stop.is_set():
            try:
                raw = resp.readline()
            except (OSError, http.client.HTTPException, ValueError, AttributeError):
                return  # socket shut down by stop(), timed out, or the server went away
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                if data:
                    try:
                        event = json.loads("\n".join(data))
                    except ValueError:
                        event = None
                    data = []
                    if isinstance(event, dict):
                        yield event
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            if field == "data":
                data.append(value[1:] if value.startswith(" ") else value)

    def _shutdown_stream(self) -> None:
        """Any thread: wake a read blocked on the stream (it returns end-of-stream at once)."""
        with self._conn_lock:
            sock = self._conn.sock if self._conn is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _close_stream(self) -> None:
        """The feed thread only: close the stream's connection."""
        with self._conn_lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()


def _auth_headers(client: ServiceClient) -> dict[str, str]:
    headers = getattr(client, "_headers", {}) or {}
    return {k: v for k, v in headers.items() if k.lower() == "authorization"}


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes (for tests and ``RunDetails.wait``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
