from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from jupyter_aml.errors import AMLError, Conflict, NotFound, ServiceUnavailable, Unauthorized
from jupyter_aml.runtime.http import ServiceClient


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json", close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode())

    def handle_one_request(self) -> None:
        self.server.peers.add(self.client_address)
        super().handle_one_request()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        srv = self.server
        if url.path == "/api/v1/ok":
            self._json(200, {"query": parse_qs(url.query), "auth": self.headers.get("Authorization")})
        elif url.path == "/api/v1/missing":
            self._json(404, {"error": {"code": "NotFound", "message": "no such run", "hint": "check the id"}})
        elif url.path == "/api/v1/conflict":
            self._json(409, {"error": {"code": "Conflict", "message": "illegal", "details": {"a": 1}}})
        elif url.path == "/api/v1/bare401":
            self._send(401, b"go away", "text/plain")
        elif url.path == "/api/v1/teapot":
            self._send(418, b"short and stout", "text/plain")
        elif url.path == "/api/v1/flaky":
            with srv.lock:
                srv.flaky -= 1
                left = srv.flaky
            if left >= 0:
                self._send(503, b"restarting", "text/plain")
            else:
                self._json(200, {"ok": True})
        elif url.path == "/api/v1/bytes":
            self._send(200, srv.blob, "application/octet-stream")
        elif url.path == "/api/v1/empty":
            self._send(204, b"", "application/json")
        elif url.path == "/api/v1/close":
            self._json(200, {"closing": True})
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._json(404, {"error": {"code": "NotFound", "message": url.path}})

    def do_PUT(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self._json(200, {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                         "ctype": self.headers.get("Content-Type")})

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._json(201, {"echo": json.loads(data) if data else None, "ctype": self.headers.get("Content-Type")})


@pytest.fixture
def server() -> Iterator[Any]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.peers, srv.lock, srv.flaky, srv.blob = set(), threading.Lock(), 0, bytes(range(256)) * 10_000
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/api/v1"
    yield srv
    srv.shutdown()
    srv.server_close()


def test_json_params_auth_and_keep_alive(server: Any) -> None:
    with ServiceClient(server.url + "/", "amlr_abc") as client:
        for _ in range(5):
            got = client.get("/ok", params={"status": ["Running", "Queued"], "root_only": True, "x": None})
        assert got["auth"] == "Bearer amlr_abc"
        assert got["query"] == {"status": ["Running", "Queued"], "root_only": ["true"]}
        assert client.post("/anything", {"a": [1, 2]}) == {"echo": {"a": [1, 2]}, "ctype": "application/json"}
        assert client.get("ok")["query"] == {}
        assert client.get("/empty") is None
    assert len(server.peers) == 1  # one keep-alive connection served all calls


def test_one_connection_per_thread(server: Any) -> None:
    client = ServiceClient(server.url)
    threads = [threading.Thread(target=lambda: [client.get("/ok") for _ in range(3)]) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.peers) == 3
    client.close()


def test_typed_errors(server: Any) -> None:
    client = ServiceClient(server.url)
    with pytest.raises(NotFound) as err:
        client.get("/missing")
    assert err.value.message == "no such run" and err.value.hint == "check the id"
    with pytest.raises(Conflict) as err2:
        client.get("/conflict")
    assert err2.value.details == {"a": 1}
    with pytest.raises(Unauthorized):
        client.get("/bare401")
    with pytest.raises(AMLError) as err3:
        client.get("/teapot")
    assert err3.value.status == 418 and "short and stout" in err3.value.message
    assert client.get("/ok")["query"] == {}  # the connection is still usable after errors


def test_unreachable_service_and_retry(server: Any) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(ServiceUnavailable):
        ServiceClient(f"http://127.0.0.1:{port}/api/v1", timeout=2).get("/ok")
    client = ServiceClient(server.url)
    server.flaky = 2
    with pytest.raises(ServiceUnavailable):
        client.get("/flaky")  # no retry by default
    server.flaky = 2
    assert client.get("/flaky", retry=3) == {"ok": True}


def test_server_closing_idle_connection_is_transparent(server: Any) -> None:
    client = ServiceClient(server.url)
    assert client.get("/close") == {"closing": True}
    assert client.get("/ok")["query"] == {}
    assert client.get("/ok")["query"] == {}


def test_uploads_and_downloads(server: Any, tmp_path: Path) -> None:
    client = ServiceClient(server.url)
    data = b"x" * 3_000_000
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    assert client.put("/blob", file=src)["sha256"] == digest
    with open(src, "rb") as fh:
        fh.seek(1000)
        assert client.put("/blob", file=fh)["size"] == len(data) - 1000
    got = client.request("PUT", "/blob", data=b"abc", content_type="text/plain")
    assert got["ctype"] == "text/plain" and got["size"] == 3
    assert client.get("/bytes") == server.blob
    dest = tmp_path / "out.bin"
    assert client.stream_download("/bytes", dest) == len(server.blob)
    assert dest.read_bytes() == server.blob
    buf = io.BytesIO()
    client.stream_download("/bytes", buf)
    assert buf.getvalue() == server.blob
    with pytest.raises(NotFound):
        client.stream_download("/nothing", tmp_path / "none.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin", "out.bin"]
    with pytest.raises(ValueError):
        client.request("POST", "/x", json={}, data=b"")


def test_a_thread_can_give_back_its_connection(server: Any) -> None:
    client = ServiceClient(server.url)
    client.get("ok")
    done: list[bool] = []

    def worker() -> None:
        client.get("ok")
        client.close_thread_connection()
        done.append(getattr(client._local, "conn", None) is None)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert done == [True]
    assert len(client._all) == 1  # the main thread's connection stays pooled
    client.close_thread_connection()
    assert client._all == [] and client.get("ok") is not None  # and a new one opens on demand
