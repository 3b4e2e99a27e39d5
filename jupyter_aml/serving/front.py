"""The load balancer in front of a web service's replicas: one small tornado server per service.

It owns the scoring URI and the rules callers see: key auth (``Authorization: Bearer <primary or secondary
key>``), the payload limit (413, decided from the headers; the body is read and dropped so that the caller,
still sending it, reads the answer instead of a reset connection), the scoring timeout (504), a request id
per request, and telemetry. Each request goes to the ready replica with the fewest requests in flight; a replica
that cannot be reached is marked suspect (the supervisor checks it) and the request is retried on another,
so a crashed replica costs no failed request. A replica whose ``run()`` overran the scoring timeout (its caller
got a 504) stays busy ("overdue") until that ``run()`` returns, and takes no request meanwhile; the
supervisor replaces it after ``replica_overrun_limit_seconds`` (``jupyter_aml.serving.guard``). When no
replica is ready (a restart, a single replica) it waits for one up to the scoring timeout. A service with
``max_batch_size`` > 1 queues scoring requests in a ``jupyter_aml.serving.batching.Batcher`` instead, which
sends them to the replicas in batches. Traffic moves to a new revision by swapping ``revision`` at once:
requests in flight on the old replicas finish there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import http.client
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tornado import httputil, web
from tornado import version as tornado_version
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from jupyter_aml.core.registry_models import ReplicaState, ReplicaView
from jupyter_aml.core.telemetry import MinuteStats
from jupyter_aml.serving.backends import ReplicaHandle
from jupyter_aml.serving.batch_call import error_body as _error
from jupyter_aml.serving.batching import Batcher
from jupyter_aml.serving.proxy import ConnectionPool, ReplicaDown, StaleConnection

log = logging.getLogger("jupyter_aml.serving")

STARTING: ReplicaState = "starting"
READY: ReplicaState = "ready"
SUSPECT: ReplicaState = "suspect"
DRAINING: ReplicaState = "draining"
DEAD: ReplicaState = "dead"


@dataclass(eq=False)
class Replica:
    index: int
    revision: int
    handle: ReplicaHandle | None = None
    pool: ConnectionPool | None = None
    state: ReplicaState = STARTING
    inflight: int = 0
    restarts: int = 0
    served: int = 0
    token: str = ""  # what the replica expects in X-AML-Replica-Token
    started_at: float = field(default_factory=time.time)
    alive_at: float = field(default_factory=time.monotonic)  # when it last answered its liveness probe
    crash_times: list[float] = field(default_factory=list)
    overdue: int = 0  # requests whose caller got a 504 while run() still works on them
    hung_since: float | None = None  # monotonic time of the oldest overdue request

    @property
    def busy(self) -> bool:
        return self.inflight > 0

    def late(self) -> None:
        """An overdue request's run() returned (or the replica went away): it may take requests again."""
        self.inflight -= 1
        self.overdue -= 1
        if self.overdue <= 0:
            self.hung_since = None

    def view(self) -> ReplicaView:
        return ReplicaView(index=self.index, revision=self.revision, state=self.state, inflight=self.inflight,
                           restarts=self.restarts, served=self.served, overdue=max(0, self.overdue),
                           pid=self.handle.pid if self.handle else None,
                           port=self.handle.port if self.handle else None)


@dataclass(eq=False)
class Revision:
    number: int
    replicas: list[Replica]
    swagger: dict[str, Any] = field(default_factory=dict)


class Front:
    def __init__(self, name: str) -> None:
        self.name = name
        self.revision: Revision | None = None
        self.keys: tuple[str, str] = ("", "")
        self.auth_enabled = True
        self.timeout = 60.0
        self.max_bytes = 128 * 1024 * 1024
        self.stats: dict[int, MinuteStats] = {}
        self.server: HTTPServer | None = None
        self.port = 0
        self.active = 0  # scoring requests being handled
        self.capacity = 1  # requests (batches, when batching) a replica takes at once
        self.batcher: Batcher | None = None  # max_batch_size > 1: dynamic batching
        self._changed = asyncio.Event()
        self._rr = 0

    # -- configuration ------------------------------------------------------------------------------------
    def configure(self, config: dict[str, Any], keys: tuple[str, str]) -> None:
        self.auth_enabled = bool(config.get("auth_enabled", True))
        self.timeout = int(config.get("scoring_timeout_ms", 60000)) / 1000
        self.max_bytes = int(config.get("max_request_bytes", 128 * 1024 * 1024))
        self.capacity = int(config.get("max_concurrent_requests_per_container", 1))
        self.keys = keys
        size, wait = int(config.get("max_batch_size") or 1), int(config.get("max_batch_wait_ms") or 0) / 1000
        if size <= 1:
            self.batcher = None
        elif self.batcher is None:
            self.batcher = Batcher(self, size, wait)
        else:
            self.batcher.configure(size, wait)

    def switch(self, revision: Revision) -> Revision | None:
        old, self.revision = self.revision, revision
        self.notify()
        return old

    def notify(self) -> None:
        """Wake requests waiting for a ready replica."""
        self._changed.set()
        self._changed = asyncio.Event()
        if self.batcher is not None and self.batcher.queue:
            self.batcher.pump()

    def listen(self, host: str, port: int) -> int:
        app = web.Application(
            [
                (r"/score", ScoreHandler, {"front": self}),
                (r"/swagger\.json", SwaggerHandler, {"front": self}),
                (r"/health/ready", ReadyHandler, {"front": self}),
                (r"/(?:health/live)?", LiveHandler, {"front": self}),
            ],
            log_function=lambda _handler: None,
        )
        sockets = bind_sockets(port, host, reuse_port=False)
        self.port = sockets[0].getsockname()[1]
        self.server = HTTPServer(_Dispatcher(self, app), max_body_size=1024**3 + 1, idle_connection_timeout=120,
                                 xheaders=False)
        self.server.add_sockets(sockets)
        return self.port

    async def stop(self, drain: float = 0.0) -> None:
        """Stop accepting connections, let requests in flight finish (up to ``drain`` s), then close."""
        if self.server is not None:
            self.server.stop()
            deadline = time.monotonic() + drain
            while self.active and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.close_all_connections(), 5)
            self.server = None

    # -- keys and telemetry -----------------------------------------------------------------------------
    def authorized(self, header: str) -> bool:
        if not self.auth_enabled:
            return True
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            return False
        return any(key and hmac.compare_digest(value.encode(), key.encode()) for key in self.keys)

    def record(self, status: int, latency_ms: float) -> None:
        minute = int(time.time() // 60)
        stats = self.stats.get(minute)
        if stats is None:
            stats = self.stats[minute] = MinuteStats(minute)
        stats.record(status, latency_ms)

    def take_stats(self) -> list[MinuteStats]:
        taken, self.stats = list(self.stats.values()), {}
        return taken

    # -- routing ------------------------------------------------------------------------------------------
    def ready(self) -> list[Replica]:
        return [r for r in (self.revision.replicas if self.revision else []) if r.state == READY]

    def pick(self, tried: set[Replica], *, room: bool = False) -> Replica | None:
        """The ready replica with the fewest requests in flight (round robin among equals), not overdue and not
        in ``tried``; with ``room``, only one with fewer than ``capacity`` in flight (the batcher waits)."""
        candidates = [r for r in self.ready() if r not in tried and r.overdue <= 0
                      and (not room or r.inflight < self.capacity)]
        if not candidates:
            return None
        self._rr += 1
        low = min(r.inflight for r in candidates)
        best = [r for r in candidates if r.inflight == low]
        return best[self._rr % len(best)]

    async def _acquire(self, deadline: float, tried: set[Replica]) -> Replica | None:
        loop = asyncio.get_running_loop()
        while True:
            replica = self.pick(tried)
            if replica is not None:
                return replica
            remaining = deadline - loop.time()
            if remaining <= 0 or self.revision is None:
                return None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    def unreachable(self, replica: Replica, exc: Exception) -> None:
        """The replica could not be reached: suspect until the supervisor has probed it."""
        if replica.state == READY:
            replica.state = SUSPECT
            log.info("service %s: replica %s unreachable (%s); rerouting", self.name, replica.index, exc)

    @staticmethod
    def overdue(replica: Replica) -> None:
        """Its caller got a 504 while run() still works: busy until it answers (``late_callback``)."""
        replica.overdue += 1
        if replica.overdue > 0 and replica.hung_since is None:
            replica.hung_since = time.monotonic()

    def release(self, replica: Replica) -> None:
        """A request (or batch) the replica answered, or that never reached it."""
        replica.inflight -= 1
        if replica.state == DRAINING and replica.inflight == 0:
            self.notify()

    async def forward(self, body: bytes, request_id: str) -> tuple[int, bytes]:
        if self.batcher is not None:
            return await self.batcher.submit(body, request_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        tried: set[Replica] = set()
        for _attempt in range(6):
            replica = await self._acquire(deadline, tried)
            if replica is None or replica.pool is None:
                return 503, _error("ServiceUnavailable", "no replica of the service is ready; retry shortly")
            replica.inflight += 1
            overdue = False
            try:
                headers = {"Content-Type": "application/json", "x-ms-request-id": request_id,
                           "X-AML-Replica-Token": replica.token}
                for fresh in (False, True):
                    try:
                        response = await replica.pool.request("POST", "/score", body, headers,
                                                              max(0.05, deadline - loop.time()),
                                                              late=self.late_callback(replica))
                        break
                    except StaleConnection:
                        if fresh:
                            raise
                        replica.pool.close()
                replica.served += 1
                return response.status, response.body
            except ReplicaDown as exc:
                tried.add(replica)
                self.unreachable(replica, exc)
            except asyncio.TimeoutError:
                # run() is still working on it: the replica stays busy until it answers (Replica.late)
                overdue = True
                self.overdue(replica)
                return 504, _error("Timeout", f"scoring took longer than the {self.timeout:g} s timeout")
            finally:
                if not overdue:
                    self.release(replica)
        return 503, _error("ServiceUnavailable", "no replica could take the request; retry shortly")

    def late_callback(self, replica: Replica) -> Callable[[], None]:
        def late() -> None:
            replica.late()
            self.notify()

        return late


def too_large_message(size: int | None, limit: int) -> str:
    """What a caller over the payload limit reads: the limit and the setting that raises it."""
    what = f"the request body is {size} bytes" if size is not None else "the request body is over the limit"
    return (f"{what}; this web service accepts at most {limit} bytes (max_request_bytes). Raise it with "
            f"service.update(max_request_bytes=N), or deploy with deploy_configuration(max_request_bytes=N); "
            f"or send fewer rows per request")


UNAUTHORIZED = "a valid key is needed: Authorization: Bearer <primary or secondary key>"
SERVER_HEADER = f"TornadoServer/{tornado_version}"


class _Dispatcher(httputil.HTTPServerConnectionDelegate):
    """``POST /score`` takes a lean path (:class:`_Score`); every other request goes to the tornado application.

    For a small model the balancer's own cost per request is a large part of the latency, and tornado's
    ``RequestHandler`` machinery is most of that cost, so scoring requests skip it while keeping tornado's
    HTTP/1.1 connection handling (keep-alive, chunked bodies, ``Expect: 100-continue``, the body limit)."""

    def __init__(self, front: Front, app: web.Application) -> None:
        self.front = front
        self.app = app

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return _Route(self, server_conn, request_conn)


class _Route(httputil.HTTPMessageDelegate):
    """Picks the delegate once the request line is known, then passes everything on to it."""

    def __init__(self, dispatcher: _Dispatcher, server_conn: object, request_conn: httputil.HTTPConnection) -> None:
        self.dispatcher = dispatcher
        self.server_conn = server_conn
        self.request_conn = request_conn
        self.delegate: httputil.HTTPMessageDelegate | None = None

    def headers_received(self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
                         headers: httputil.HTTPHeaders) -> Any:
        assert isinstance(start_line, httputil.RequestStartLine)
        if start_line.method == "POST" and start_line.path.partition("?")[0] == "/score":
            self.delegate = _Score(self.dispatcher.front, self.request_conn)
        else:
            self.delegate = self.dispatcher.app.start_request(self.server_conn, self.request_conn)
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        assert self.delegate is not None
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        assert self.delegate is not None
        self.delegate.finish()

    def on_connection_close(self) -> None:
        if self.delegate is not None:
            self.delegate.on_connection_close()


class _Score(httputil.HTTPMessageDelegate):
    """One ``POST /score``: the same rules as :class:`ScoreHandler` (key, payload limit, request id, telemetry,
    the balancer's answer as JSON) without a ``RequestHandler``.

    A request refused from its headers (401, 413) is answered once its body has arrived, which is dropped
    as it comes: HTTP/1.1 clients (``requests``, ``urllib``) send the whole body before they read an answer,
    and closing the connection under them turns the answer into "connection reset"."""

    def __init__(self, front: Front, conn: httputil.HTTPConnection) -> None:
        self.front = front
        self.conn = conn
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False
        self.refused: tuple[int, bytes, tuple[str, str] | None] | None = None  # answered when the body is in
        self.answered = False
        self.counted = False
        self.request_id = ""
        self.started = 0.0
        self.task: asyncio.Future[None] | None = None

    def headers_received(self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
                         headers: httputil.HTTPHeaders) -> None:
        front = self.front
        self.started = time.perf_counter()
        self.counted = True
        front.active += 1
        self.request_id = headers.get("x-ms-request-id") or uuid.uuid4().hex
        if not front.authorized(headers.get("Authorization", "")):
            self.refused = (401, _error("Unauthorized", UNAUTHORIZED),
                            ("WWW-Authenticate", 'Bearer realm="aml-webservice"'))
            return
        try:
            declared = int(headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0  # tornado refuses the request itself when it reads the body
        if declared > front.max_bytes:
            self.refused = (413, _error("PayloadTooLarge", too_large_message(declared, front.max_bytes)), None)

    def data_received(self, chunk: bytes) -> None:
        if self.answered or self.too_large or self.refused is not None:
            return
        self.size += len(chunk)
        if self.size > self.front.max_bytes:
            self.too_large = True
            self.chunks = []
            return
        self.chunks.append(chunk)

    def finish(self) -> None:
        if self.answered:
            return
        if self.refused is not None:
            status, body, extra = self.refused
            self._answer(status, body, extra=extra)
            return
        if self.too_large:
            self._answer(413, _error("PayloadTooLarge", too_large_message(None, self.front.max_bytes)))
            return
        body = b"".join(self.chunks)
        if self.front.batcher is not None:  # answered from the batcher's callback: no task per request
            self.front.batcher.enqueue(body, self.request_id, self._answer)
            return
        self.task = asyncio.ensure_future(self._forward(body))

    async def _forward(self, body: bytes) -> None:
        try:
            status, answer = await self.front.forward(body, self.request_id)
        except Exception:
            log.exception("service %s: scoring request %s failed in the balancer", self.front.name, self.request_id)
            status, answer = 500, _error("Error", "Internal Server Error")
        self._answer(status, answer)

    def on_connection_close(self) -> None:
        self._uncount()

    def _answer(self, status: int, body: bytes, *, close: bool = False, extra: tuple[str, str] | None = None) -> None:
        if self.answered:
            return
        self.answered = True
        headers = httputil.HTTPHeaders()
        headers["Server"] = SERVER_HEADER
        headers["Content-Type"] = "application/json"
        headers["Date"] = httputil.format_timestamp(time.time())
        headers["x-ms-request-id"] = self.request_id
        headers["Content-Length"] = str(len(body))
        if close:
            headers["Connection"] = "close"
        if extra is not None:
            headers[extra[0]] = extra[1]
        reason = http.client.responses.get(status, "Unknown")
        with contextlib.suppress(Exception):  # the caller may be gone; the request still counts below
            self.conn.write_headers(httputil.ResponseStartLine("HTTP/1.1", status, reason), headers, body)
            self.conn.finish()
        self.front.record(status, (time.perf_counter() - self.started) * 1000)
        self._uncount()

    def _uncount(self) -> None:
        if self.counted:
            self.counted = False
            self.front.active -= 1


class _Base(web.RequestHandler):
    front: Front

    def initialize(self, front: Front) -> None:
        self.front = front

    def _json(self, status: int, body: bytes) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(body)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self._json(status_code, _error("Error", self._reason))


@web.stream_request_body
class ScoreHandler(_Base):
    """``/score`` with any method but ``POST`` (which :class:`_Score` takes): 405; the body is not kept."""

    def prepare(self) -> None:
        self.set_header("x-ms-request-id", self.request.headers.get("x-ms-request-id") or uuid.uuid4().hex)

    def data_received(self, chunk: bytes) -> None:
        pass

    async def get(self) -> None:
        self._json(405, _error("MethodNotAllowed", "POST JSON to /score"))


class LiveHandler(_Base):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.finish("Healthy")


class ReadyHandler(_Base):
    def get(self) -> None:
        ok = bool(self.front.ready())
        self.set_status(200 if ok else 503)
        self.set_header("Content-Type", "text/plain")
        self.finish("Ready" if ok else "NotReady")


class SwaggerHandler(_Base):
    """``GET /swagger.json``: OpenAPI 2.0; ``?version=3`` (or 3.0, 3.1): the same document in OpenAPI 3."""

    def get(self) -> None:
        from jupyter_aml.serving.swagger import as_openapi3

        doc = self.front.revision.swagger if self.front.revision else {}
        version = self.get_query_argument("version", "2")
        if version in ("3", "3.0", "3.1"):
            doc = as_openapi3(doc, "3.1.0" if version == "3.1" else "3.0.1")
        elif version not in ("2", "2.0"):
            self._json(400, _error("InvalidInput", f"swagger version {version!r}: use 2 or 3"))
            return
        self._json(200, json.dumps(doc).encode())
