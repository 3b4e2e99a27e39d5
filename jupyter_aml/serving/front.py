"""The load balancer in front of a web service's replicas: one small tornado server per service.

It owns the scoring URI and the rules callers see: key auth (``Authorization: Bearer <primary or secondary
key>``), the payload limit (413 before the body is read), the scoring timeout (504), a request id per
request, and telemetry. Each request goes to the ready replica with the fewest requests in flight; a replica
that cannot be reached is marked suspect (the supervisor checks it) and the request is retried on another,
so a crashed replica costs no failed request. When no replica is ready (a restart, a single replica) it
waits for one up to the scoring timeout. Traffic moves to a new revision by swapping ``revision`` at once:
requests in flight on the old replicas finish there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from jupyter_aml.core.telemetry import MinuteStats
from jupyter_aml.serving.backends import ReplicaHandle
from jupyter_aml.serving.proxy import ConnectionPool, ReplicaDown, StaleConnection

log = logging.getLogger("jupyter_aml.serving")

STARTING, READY, SUSPECT, DRAINING, DEAD = "starting", "ready", "suspect", "draining", "dead"


@dataclass(eq=False)
class Replica:
    index: int
    revision: int
    handle: ReplicaHandle | None = None
    pool: ConnectionPool | None = None
    state: str = STARTING
    inflight: int = 0
    restarts: int = 0
    served: int = 0
    token: str = ""  # what the replica expects in X-AML-Replica-Token
    started_at: float = field(default_factory=time.time)
    crash_times: list[float] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {"index": self.index, "revision": self.revision, "state": self.state, "inflight": self.inflight,
                "restarts": self.restarts, "served": self.served,
                "pid": self.handle.pid if self.handle else None,
                "port": self.handle.port if self.handle else None}


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
        self.max_bytes = 10 * 1024 * 1024
        self.stats: dict[int, MinuteStats] = {}
        self.server: HTTPServer | None = None
        self.port = 0
        self.active = 0  # scoring requests being handled
        self._changed = asyncio.Event()
        self._rr = 0

    # -- configuration ------------------------------------------------------------------------------------
    def configure(self, config: dict[str, Any], keys: tuple[str, str]) -> None:
        self.auth_enabled = bool(config.get("auth_enabled", True))
        self.timeout = int(config.get("scoring_timeout_ms", 60000)) / 1000
        self.max_bytes = int(config.get("max_request_bytes", 10 * 1024 * 1024))
        self.keys = keys

    def switch(self, revision: Revision) -> Revision | None:
        old, self.revision = self.revision, revision
        self.notify()
        return old

    def notify(self) -> None:
        """Wake requests waiting for a ready replica."""
        self._changed.set()
        self._changed = asyncio.Event()

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
        self.server = HTTPServer(app, max_body_size=1024**3 + 1, idle_connection_timeout=120, xheaders=False)
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

    async def _acquire(self, deadline: float, tried: set[Replica]) -> Replica | None:
        loop = asyncio.get_running_loop()
        while True:
            candidates = [r for r in self.ready() if r not in tried]
            if candidates:
                self._rr += 1
                low = min(r.inflight for r in candidates)
                best = [r for r in candidates if r.inflight == low]
                return best[self._rr % len(best)]
            remaining = deadline - loop.time()
            if remaining <= 0 or self.revision is None:
                return None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def forward(self, body: bytes, request_id: str) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        tried: set[Replica] = set()
        for _attempt in range(6):
            replica = await self._acquire(deadline, tried)
            if replica is None or replica.pool is None:
                return 503, _error("ServiceUnavailable", "no replica of the service is ready; retry shortly")
            replica.inflight += 1
            try:
                headers = {"Content-Type": "application/json", "x-ms-request-id": request_id,
                           "X-AML-Replica-Token": replica.token}
                for fresh in (False, True):
                    try:
                        response = await replica.pool.request("POST", "/score", body, headers,
                                                              max(0.05, deadline - loop.time()))
                        break
                    except StaleConnection:
                        if fresh:
                            raise
                        replica.pool.close()
                replica.served += 1
                return response.status, response.body
            except ReplicaDown as exc:
                tried.add(replica)
                if replica.state == READY:
                    replica.state = SUSPECT
                    log.info("service %s: replica %s unreachable (%s); rerouting", self.name, replica.index, exc)
            except asyncio.TimeoutError:
                if replica.pool is not None:
                    replica.pool.close()
                return 504, _error("Timeout", f"scoring took longer than the {self.timeout:g} s timeout")
            finally:
                replica.inflight -= 1
                if replica.state == DRAINING and replica.inflight == 0:
                    self.notify()
        return 503, _error("ServiceUnavailable", "no replica could take the request; retry shortly")


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


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
    _chunks: list[bytes]
    _size = 0
    _too_large = False
    _started = 0.0

    def _reject(self, status: int, code: str, message: str) -> None:
        self.set_header("Connection", "close")
        self._json(status, _error(code, message))

    _counted = False

    async def prepare(self) -> None:
        self._started = time.perf_counter()
        if self.request.method == "POST":
            self._counted = True
            self.front.active += 1
        self._chunks = []
        self.request_id = self.request.headers.get("x-ms-request-id") or uuid.uuid4().hex
        self.set_header("x-ms-request-id", self.request_id)
        if self.request.method != "POST":
            return
        if not self.front.authorized(self.request.headers.get("Authorization", "")):
            self.set_header("WWW-Authenticate", 'Bearer realm="aml-webservice"')
            self._reject(401, "Unauthorized", "a valid key is needed: Authorization: Bearer <primary or secondary key>")
            return
        declared = int(self.request.headers.get("Content-Length") or 0)
        if declared > self.front.max_bytes:
            self._reject(413, "PayloadTooLarge", f"the request body is {declared} bytes; the limit is "
                                                 f"{self.front.max_bytes}")

    def data_received(self, chunk: bytes) -> None:
        if self._finished or self._too_large:
            return
        self._size += len(chunk)
        if self._size > self.front.max_bytes:
            self._too_large = True
            self._chunks = []
            return
        self._chunks.append(chunk)

    async def post(self) -> None:
        if self._too_large:
            self._reject(413, "PayloadTooLarge", f"the request body is over the {self.front.max_bytes} byte limit")
            return
        status, body = await self.front.forward(b"".join(self._chunks), self.request_id)
        self._json(status, body)

    async def get(self) -> None:
        self._json(405, _error("MethodNotAllowed", "POST JSON to /score"))

    def on_finish(self) -> None:
        if self.request.method == "POST":
            self.front.record(self.get_status(), (time.perf_counter() - self._started) * 1000)
        self._uncount()

    def on_connection_close(self) -> None:
        self._uncount()

    def _uncount(self) -> None:
        if self._counted:
            self._counted = False
            self.front.active -= 1


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
    def get(self) -> None:
        self._json(200, json.dumps(self.front.revision.swagger if self.front.revision else {}).encode())
