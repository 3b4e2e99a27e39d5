"""The client waits what the server asks (Retry-After on 503/429) before retrying, within a cap, instead of its
own backoff: a server whose write lock is held says when to come back, and hammering it sooner helps no one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from jupyter_aml.errors import AMLError, Busy, QuotaExceeded
from jupyter_aml.runtime import http as runtime_http
from jupyter_aml.runtime.http import ServiceClient


class Handler(BaseHTTPRequestHandler):
    """Answers each path's scripted replies in turn (status, Retry-After or None, JSON body), then 200."""

    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with self.server.lock:
            script = self.server.scripts.setdefault(self.path, [])
            status, retry_after, body = script.pop(0) if script else (200, None, {"ok": True})
            self.server.calls[self.path] = self.server.calls.get(self.path, 0) + 1
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _reply


@pytest.fixture
def server() -> Iterator[Any]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.lock, srv.scripts, srv.calls = threading.Lock(), {}, {}
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/api/v1"
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the client slept, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(runtime_http.time, "sleep", recorded.append)
    return recorded


BUSY = {"error": {"code": "Busy", "message": "the workspace database is busy", "hint": "retry after 1 s"}}


def test_a_busy_503_is_retried_after_the_servers_retry_after(server: Any, sleeps: list[float]) -> None:
    server.scripts["/api/v1/w"] = [(503, "1", BUSY)]
    with ServiceClient(server.url, retry=3) as client:
        assert client.post("/w", {"name": "w"}) == {"ok": True}
    assert sleeps == [1.0]
    assert server.calls["/api/v1/w"] == 2


def test_a_429_with_retry_after_is_retried_and_a_long_wait_is_capped(server: Any, sleeps: list[float]) -> None:
    server.scripts["/api/v1/limited"] = [(429, "2", {"error": {"code": "TooMany", "message": "slow down"}}),
                                         (503, "3600", BUSY)]
    with ServiceClient(server.url) as client:
        assert client.get("/limited", retry=2) == {"ok": True}
    assert sleeps == [2.0, runtime_http.MAX_RETRY_AFTER]


def test_retries_used_up_raise_busy_with_the_servers_wait(server: Any, sleeps: list[float]) -> None:
    server.scripts["/api/v1/w"] = [(503, "4", BUSY), (503, "5", BUSY)]
    with ServiceClient(server.url) as client, pytest.raises(Busy) as caught:
        client.get("/w", retry=1)
    assert sleeps == [4.0]
    assert caught.value.retry_after == 5 and "busy" in caught.value.message


def test_without_retries_busy_is_raised_at_once(server: Any, sleeps: list[float]) -> None:
    server.scripts["/api/v1/w"] = [(503, "1", BUSY)]
    with ServiceClient(server.url) as client, pytest.raises(Busy):
        client.post("/w", {})
    assert sleeps == [] and server.calls["/api/v1/w"] == 1


def test_a_quota_429_without_retry_after_is_not_retried(server: Any, sleeps: list[float]) -> None:
    quota = {"error": {"code": "QuotaExceeded", "message": "run r already has 5 child runs",
                       "hint": "raise max_child_runs_per_run"}}
    server.scripts["/api/v1/kids"] = [(429, None, quota)]
    with ServiceClient(server.url) as client, pytest.raises(QuotaExceeded) as caught:
        client.post("/kids", {"count": 1}, retry=3)
    assert isinstance(caught.value, AMLError) and caught.value.status == 429
    assert sleeps == [] and server.calls["/api/v1/kids"] == 1


def test_a_bare_503_without_retry_after_keeps_the_clients_backoff(server: Any, sleeps: list[float]) -> None:
    server.scripts["/api/v1/w"] = [(503, None, {"message": "restarting"})]
    with ServiceClient(server.url) as client:
        assert client.get("/w", retry=1) == {"ok": True}
    assert len(sleeps) == 1 and 0.2 <= sleeps[0] <= 0.3  # the first backoff step, 0.25 s +-20%


def test_retry_after_reads_seconds_and_http_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    from email.utils import formatdate

    now = 1_800_000_000.0
    monkeypatch.setattr(runtime_http.time, "time", lambda: now)
    read = runtime_http._retry_after
    assert read("7") == 7 and read(" 0 ") == 0 and read("9" * 5000) == 10**12
    assert read(formatdate(now + 12, usegmt=True)) == 12
    assert read(formatdate(now - 60, usegmt=True)) == 0  # already past: retry now
    assert read(None) is None and read("soon") is None and read("-5") is None and read("٣") is None
