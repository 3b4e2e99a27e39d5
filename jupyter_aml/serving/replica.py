"""A scoring replica: one process that serves one revision of a web service. Standard library only.

It runs in the web service's environment (any interpreter, any venv), loads the entry script the way
Azure ML v1 did (``init()`` once, then ``run(raw_data)`` per request, with ``AZUREML_MODEL_DIR`` pointing
at the model files), and answers:

- ``POST /score``: the raw JSON text goes to ``run()``; its return value comes back as JSON. A body that
  is not JSON is 400, a body over the limit 413; if ``run()`` raises, 500 with a short error id (the
  traceback goes to the service log with that id, never to the caller).
- ``GET /health/live`` (and ``GET /``): the process answers; ``GET /health/ready``: ``init()`` succeeded.

Start-up is reported through a status file (``AML_REPLICA_STATUS``): ``{"port": N}`` once listening,
``{"error": "..."}`` if the entry script cannot serve (no ``init()``/``run()``, import error, ``init()``
raised), after which the process exits with code 3 before taking any traffic. SIGTERM drains: the
listener closes, requests in flight finish (up to ``drain_seconds``), then the process exits. It also
exits when its parent (the deployment manager) goes away.
"""

from __future__ import annotations

import contextlib
import hmac
import http.server
import importlib.util
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

EXIT_INIT_FAILED = 3
SHIM_DIR = Path(__file__).resolve().parent.parent / "_shim"


def _say(message: str) -> None:
    sys.stderr.write(f"[replica] {message}\n")
    sys.stderr.flush()


def _write_status(path: str | None, body: dict[str, Any]) -> None:
    if not path:
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as handle:
        json.dump(body, handle)
    os.replace(tmp, path)


def _json_default(value: Any) -> Any:
    """numpy arrays and scalars (and anything else with ``tolist``/``item``) become JSON values."""
    for attr in ("tolist", "item"):
        method = getattr(value, attr, None)
        if callable(method):
            return method()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class ScoringApp:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.entry = Path(config["entry_script"])
        self.max_bytes = int(config.get("max_request_bytes", 10 * 1024 * 1024))
        self.slots = threading.BoundedSemaphore(int(config.get("max_concurrent_requests", 1)))
        self.ready = False
        self.draining = False
        self.inflight = 0
        self.lock = threading.Lock()
        self.run_fn: Any = None
        self.token = str(config.get("token") or "")  # only the load balancer may score

    def load(self) -> None:
        """Import the entry script and call its init(); raise with a message a user can act on."""
        name = self.entry.stem if self.entry.stem.isidentifier() else "score"
        spec = importlib.util.spec_from_file_location(name, self.entry)
        if spec is None or spec.loader is None:
            raise RuntimeError(f"cannot load entry script {self.entry.name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            traceback.print_exc()
            raise RuntimeError(f"importing entry script {self.entry.name} failed: {type(exc).__name__}: {exc}") from exc
        missing = [fn for fn in ("init", "run") if not callable(getattr(module, fn, None))]
        if missing:
            raise RuntimeError(
                f"entry script {self.entry.name} defines no {' and no '.join(f + '()' for f in missing)} function: "
                "a scoring script must define init() (called once, to load the model) and run(raw_data) "
                "(called for each request)"
            )
        try:
            module.init()
        except Exception as exc:
            traceback.print_exc()
            raise RuntimeError(f"init() of {self.entry.name} raised {type(exc).__name__}: {exc}") from exc
        self.run_fn = module.run
        self.ready = True

    def score(self, body: bytes, request_id: str) -> tuple[int, bytes]:
        try:
            text = body.decode("utf-8")
            json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            return 400, _error("InvalidInput", f"the request body is not valid JSON: {exc}")
        with self.slots:
            try:
                result = self.run_fn(text)
                payload = json.dumps(result, default=_json_default).encode()
            except Exception:
                error_id = secrets.token_hex(4)
                _say(f"run() failed (error id {error_id}, request {request_id}):\n{traceback.format_exc().rstrip()}")
                return 500, json.dumps(
                    {"error": {"code": "ScoringError", "error_id": error_id,
                               "message": f"the scoring script failed (error id {error_id}); "
                                          "the service logs have the details"}}
                ).encode()
        return 200, payload


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aml-scoring/1"
    app: ScoringApp  # set on the subclass

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the load balancer keeps request telemetry; user prints and errors go to the log

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.app.draining:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in ("/", "/health/live"):
            self._send(200, b"Healthy", "text/plain")
        elif path == "/health/ready":
            ok = self.app.ready and not self.app.draining
            self._send(200 if ok else 503, b"Ready" if ok else b"NotReady", "text/plain")
        else:
            self._send(404, _error("NotFound", f"no route {path}"))

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        if path != "/score":
            self.close_connection = True
            self._send(404, _error("NotFound", f"no route {path}"))
            return
        if length > self.app.max_bytes:
            self.close_connection = True
            self._send(413, _error("PayloadTooLarge", f"the request body is {length} bytes; the limit is "
                                                      f"{self.app.max_bytes}"))
            return
        body = self.rfile.read(length) if length else b""
        if self.app.token and not hmac.compare_digest(self.headers.get("X-AML-Replica-Token", ""), self.app.token):
            self._send(403, _error("Forbidden", "score through the web service's scoring URI"))
            return
        if not self.app.ready:
            self._send(503, _error("ServiceUnavailable", "the replica is not ready"))
            return
        with self.app.lock:
            self.app.inflight += 1
        try:
            status, payload = self.app.score(body, self.headers.get("x-ms-request-id", ""))
            self._send(status, payload)
        finally:
            with self.app.lock:
                self.app.inflight -= 1


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def _watch_parent(parent: int, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        if os.getppid() != parent:
            with contextlib.suppress(Exception):  # the log pipe died with the manager
                _say("the deployment manager is gone; exiting")
            os._exit(0)


def main() -> None:
    config = json.loads(os.environ["AML_REPLICA_CONFIG"])
    status_file = os.environ.get("AML_REPLICA_STATUS")
    source = config.get("source_dir")
    if source:
        os.chdir(source)
        sys.path.insert(0, source)
    if importlib.util.find_spec("azureml") is None:
        sys.path.append(str(SHIM_DIR))  # v1 scoring scripts: from azureml.core.model import Model
    app = ScoringApp(config)
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = Server((config.get("host", "127.0.0.1"), int(config.get("port", 0))), handler)
    stop = threading.Event()
    threading.Thread(target=_watch_parent, args=(int(config.get("parent_pid") or os.getppid()), stop),
                     daemon=True).start()
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    _write_status(status_file, {"port": server.server_address[1], "pid": os.getpid()})
    drain = float(config.get("drain_seconds", 30))

    def on_term(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    started = time.monotonic()
    try:
        app.load()
    except Exception as exc:
        _write_status(status_file, {"error": str(exc)})
        _say(str(exc))
        sys.stdout.flush()
        os._exit(EXIT_INIT_FAILED)
    _say(f"ready in {time.monotonic() - started:.2f} s on port {server.server_address[1]}")
    stop.wait()
    app.draining = True
    server.shutdown()  # no new connections
    deadline = time.monotonic() + drain
    while app.inflight and time.monotonic() < deadline:
        time.sleep(0.02)
    server.server_close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
