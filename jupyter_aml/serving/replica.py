"""A scoring replica: one process that serves one revision of a web service. Standard library only.

It runs in the web service's environment (any interpreter, any venv), loads the entry script the way
Azure ML v1 did (``init()`` once, then ``run(raw_data)`` per request, with ``AZUREML_MODEL_DIR`` pointing
at the model files), and answers:

- ``POST /score``: the raw JSON text goes to ``run()``; its return value comes back as JSON. A ``run()``
  decorated with inference-schema's ``@input_schema`` gets the JSON object's keys as keyword arguments
  instead (``schema_call``), as on Azure ML v1. A body that is not JSON is 400 (so is one that does not fit
  the declared schema), a body over the limit 413; if ``run()`` raises, 500 with a short error id (the
  traceback goes to the service log with that id, never to the caller).
- ``POST /score`` with ``X-AML-Batch``: several callers' requests merged by the balancer (dynamic batching,
  ``max_batch_size``); one call of the script's ``run_batch(requests)``, each caller's status and answer
  framed back (``batch_call``).
- ``GET /health/live`` (and ``GET /``): the process answers; ``GET /health/ready``: ``init()`` succeeded;
  ``GET /schema``: what a decorated ``run()`` declares (``{"decorated": false}`` otherwise), from which the
  deployment manager writes the service's swagger document.

Start-up is reported through a status file (``AML_REPLICA_STATUS``): ``{"port": N}`` once listening,
``{"error": "..."}`` if the entry script cannot serve (no ``init()``/``run()``, import error, ``init()``
raised), after which the process exits with code 3 before taking any traffic. SIGTERM drains: the
listener closes, requests in flight finish (up to ``drain_seconds``), then the process exits. It also
exits when its parent (the deployment manager, or under bubblewrap the sandbox's init, which bwrap's
``--die-with-parent`` ends with the manager: ``parent_pid`` is then 0) goes away.
"""

from __future__ import annotations

import contextlib
import hmac
import http.server
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from jupyter_aml.serving import batch_call, collect
from jupyter_aml.serving.schema_call import (
    BadScoringInput,
    RunSchema,
    failed_before_user_code,
    keyword_arguments,
    read_schema,
)

EXIT_INIT_FAILED = 3
WARM_PACKAGES = frozenset({"numpy", "scipy", "pandas", "joblib", "sklearn"})  # slow to import (measured: ~1.5 s)
PRELOADED: set[str] = set()  # set by jupyter_aml.serving.warm before main()
SHIM_DIR = Path(__file__).resolve().parent.parent / "_shim"
MAX_HEADER_LINE = 65536  # as http.client
MAX_HEADERS = 100
PLAIN_REQUEST_LINE = re.compile(rb"([A-Z]+) (/[^ \r\n]*) HTTP/1\.([01])\r?\n")


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


def heavy_modules() -> list[str]:
    """The modules of ``WARM_PACKAGES`` loaded once ``init()`` ran: what ``jupyter_aml.serving.warm`` imports
    ahead of the next replica of this environment (public submodules; private ones come with them), less
    those a warm process had imported before it became this replica (``PRELOADED``)."""
    names = [n for n in list(sys.modules) if n.split(".")[0] in WARM_PACKAGES and "._" not in n
             and n not in PRELOADED]
    return sorted(names)[:2000]


def _json_default(value: Any) -> Any:
    """numpy arrays and scalars (and anything else with ``tolist``/``item``) become JSON values."""
    for attr in ("tolist", "item"):
        method = getattr(value, attr, None)
        if callable(method):
            return method()
    to_dict = getattr(value, "to_dict", None)  # a pandas DataFrame: one object per row
    if callable(to_dict):
        try:
            return to_dict(orient="records")
        except TypeError:
            return to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class ScoringApp:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.entry = Path(config["entry_script"])
        self.max_bytes = int(config.get("max_request_bytes", 128 * 1024 * 1024))
        self.slots = threading.BoundedSemaphore(int(config.get("max_concurrent_requests", 1)))
        self.ready = False
        self.draining = False
        self.inflight = 0
        self.lock = threading.Lock()
        self.run_fn: Any = None
        self.batch_fn: Any = None  # run_batch(), when the service batches (max_batch_size > 1)
        self.batch_size = int(config.get("max_batch_size") or 1)
        self.schema: RunSchema | None = None
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
        self._check_functions(module)
        try:
            module.init()
        except Exception as exc:
            traceback.print_exc()
            raise RuntimeError(f"init() of {self.entry.name} raised {type(exc).__name__}: {exc}") from exc
        if self.batch_size > 1:
            self.batch_fn = module.run_batch
            self.ready = True
            _say(f"run_batch() takes up to {self.batch_size} requests at once (max_batch_size)")
            return
        try:
            self.schema = read_schema(module.run)
        except Exception as exc:
            traceback.print_exc()
            raise RuntimeError(f"reading the input schema of run() in {self.entry.name} failed: "
                               f"{type(exc).__name__}: {exc}") from exc
        if self.schema is not None:
            _say(f"run() declares an input schema: requests are JSON objects with "
                 f"{', '.join(self.schema.parameters) or 'no keys'}")
        self.run_fn = module.run
        self.ready = True

    def _check_functions(self, module: Any) -> None:
        """The entry script defines what this service calls: ``init()``, and ``run()`` (or ``run_batch()`` when
        the service batches); else the deployment fails with what to write."""
        problem = batch_call.missing_functions(module, self.entry.name, self.batch_size)
        if problem is not None:
            raise RuntimeError(problem)

    def score_batch(self, items: list[tuple[str, bytes]]) -> list[tuple[int, bytes]]:
        """Several callers' requests in one ``run_batch()`` call: each gets its own status and answer.

        A body that is not JSON is its caller's 400 and is left out of the batch; if ``run_batch()`` raises or
        does not return one answer per request, every caller of the batch gets a 500 with the reason (the
        traceback is in the service log under the error id), and an answer that cannot be sent as JSON is its
        own caller's 500."""
        answers: list[tuple[int, bytes] | None] = [None] * len(items)
        values, ids, where = [], [], []
        for i, (request_id, body) in enumerate(items):
            value, bad = batch_call.parse(body)
            if bad is not None:
                answers[i] = (400, _error("InvalidInput", bad))
                continue
            values.append(value)
            ids.append(request_id)
            where.append(i)
        if values:
            with self.slots:
                context = collect.request_context
                context.request_id, context.batch_ids = "", ids  # collect_batch(): one record per caller
                try:
                    results = batch_call.answers_of(self.batch_fn(values), len(values))
                except batch_call.BatchMismatch as exc:
                    failed = self._fault(ids, str(exc))
                    results = None
                except Exception:
                    failed = self._failed(", ".join(ids), f"run_batch() failed for a batch of {len(ids)} requests")
                    results = None
                finally:
                    context.batch_ids = None
            for n, i in enumerate(where):
                if results is None:
                    answers[i] = failed
                    continue
                try:
                    answers[i] = (200, json.dumps(results[n], default=_json_default).encode())
                except Exception:
                    answers[i] = self._failed(ids[n], "the value run_batch() returned for this request cannot be "
                                                      "sent as JSON")
        return [a if a is not None else (500, _error("ScoringError", "no answer")) for a in answers]

    @staticmethod
    def _fault(request_ids: list[str], reason: str) -> tuple[int, bytes]:
        """A batch the script answered wrongly: 500 with the reason (a fault of the script, not of the input)."""
        error_id = secrets.token_hex(4)
        _say(f"{reason} (error id {error_id}, requests {', '.join(request_ids)})")
        return 500, json.dumps({"error": {"code": "ScoringError", "error_id": error_id,
                                          "message": f"{reason} (error id {error_id})"}}).encode()

    def schema_document(self) -> bytes:
        body = self.schema.as_dict() if self.schema is not None else {"decorated": False}
        return json.dumps(body, default=_json_default).encode()

    def score(self, body: bytes, request_id: str) -> tuple[int, bytes]:
        try:
            text = body.decode("utf-8")
            data = json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            return 400, _error("InvalidInput", f"the request body is not valid JSON: {exc}")
        kwargs: dict[str, Any] | None = None
        if self.schema is not None:
            try:
                kwargs = keyword_arguments(self.schema, data)
            except BadScoringInput as exc:
                return 400, _error("InvalidInput", str(exc))
        with self.slots:
            collect.request_context.request_id = request_id  # ModelDataCollector's default correlation id
            try:
                result = self.run_fn(text) if kwargs is None else self.run_fn(**kwargs)
            except Exception as exc:
                if kwargs is not None and failed_before_user_code(exc, self.run_fn):
                    _say(f"request {request_id} does not match run()'s input schema: {type(exc).__name__}: {exc}")
                    return 400, _error("InvalidInput", f"the request does not match run()'s input schema: "
                                                       f"{type(exc).__name__}: {exc}")
                return self._failed(request_id, "run() failed")
            try:
                payload = json.dumps(result, default=_json_default).encode()
            except Exception:
                return self._failed(request_id, "the value run() returned cannot be sent as JSON")
        return 200, payload

    @staticmethod
    def _failed(request_id: str, what: str) -> tuple[int, bytes]:
        """500 with a short error id; the traceback goes to the service log under that id, never to the caller."""
        error_id = secrets.token_hex(4)
        _say(f"{what} (error id {error_id}, request {request_id}):\n{traceback.format_exc().rstrip()}")
        return 500, json.dumps(
            {"error": {"code": "ScoringError", "error_id": error_id,
                       "message": f"the scoring script failed (error id {error_id}); "
                                  "the service logs have the details"}}
        ).encode()


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class Headers:
    """Request headers with the part of ``email.message.Message`` the handler uses: ``get(name, default)``
    (case-insensitive, the first value). Reading them this way costs a few microseconds instead of the
    ~60 us of the email parser, on every scoring request."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, raw: bytes) -> None:
        text = raw.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t"):  # an obsolete folded continuation of the previous header
            if self.items:
                name, value = self.items[-1]
                self.items[-1] = (name, f"{value} {text.strip()}".strip())
            return
        name, sep, value = text.partition(":")
        if sep and name.strip():
            self.items.append((name.strip(), value.strip()))

    def get(self, name: str, default: Any = None) -> Any:
        wanted = name.lower()
        for key, value in self.items:
            if key.lower() == wanted:
                return value
        return default

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __len__(self) -> int:
        return len(self.items)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aml-scoring/1"
    app: ScoringApp  # set on the subclass
    raw_requestline: bytes  # set by BaseHTTPRequestHandler.handle_one_request

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def parse_request(self) -> bool:
        """``BaseHTTPRequestHandler.parse_request`` with a cheap header reader for the plain request lines the
        balancer and the probes send (``METHOD /path HTTP/1.x``); any other line takes the standard path."""
        match = PLAIN_REQUEST_LINE.fullmatch(self.raw_requestline)
        if match is None:
            return super().parse_request()
        self.requestline = self.raw_requestline.decode("iso-8859-1").rstrip("\r\n")
        self.command = match.group(1).decode("ascii")
        path = match.group(2).decode("iso-8859-1")
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        self.request_version = "HTTP/1." + match.group(3).decode("ascii")
        self.close_connection = self.request_version != "HTTP/1.1"
        headers = Headers()
        while True:
            line = self.rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                self.send_error(431, "Line too long", f"header line longer than {MAX_HEADER_LINE}")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            if len(headers) >= MAX_HEADERS:
                self.send_error(431, "Too many headers", f"got more than {MAX_HEADERS} headers")
                return False
            headers.add(line)
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if headers.get("Expect", "").lower() == "100-continue" and self.request_version == "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the load balancer keeps request telemetry; user prints and errors go to the log

    def _send(self, status: int, body: bytes, content_type: str = "application/json", extra: str = "") -> None:
        # The head and the body leave in one write: two writes cost the balancer two wake-ups per answer.
        close = ""
        if self.app.draining:
            close = "Connection: close\r\n"
            self.close_connection = True
        reason = self.responses[status][0] if status in self.responses else ""
        head = (
            f"{self.protocol_version} {status} {reason}\r\nServer: {self.version_string()}\r\n"
            f"Date: {self.date_time_string()}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"{extra}{close}\r\n"
        )
        self.wfile.write(head.encode("latin-1") + body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in ("/", "/health/live"):
            self._send(200, b"Healthy", "text/plain")
        elif path == "/health/ready":
            ok = self.app.ready and not self.app.draining
            self._send(200 if ok else 503, b"Ready" if ok else b"NotReady", "text/plain")
        elif path == "/schema" and self.app.ready:
            self._send(200, self.app.schema_document())
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
            frame = self.headers.get(batch_call.HEADER)
            request_id = self.headers.get("x-ms-request-id", "")
            if frame is not None:
                self._score_batch(frame, body)
            elif self.app.batch_fn is not None:  # a single request to a batching replica: a batch of one
                status, payload = self.app.score_batch([(request_id, body)])[0]
                self._send(status, payload)
            else:
                status, payload = self.app.score(body, request_id)
                self._send(status, payload)
        finally:
            with self.app.lock:
                self.app.inflight -= 1


    def _score_batch(self, frame: str, body: bytes) -> None:
        if self.app.batch_fn is None:
            self._send(400, _error("InvalidInput", "this replica does not batch (max_batch_size is 1)"))
            return
        try:
            items = batch_call.unpack_requests(frame, body)
        except ValueError as exc:
            self._send(400, _error("InvalidInput", f"a malformed batch from the balancer: {exc}"))
            return
        head, payload = batch_call.pack_answers(self.app.score_batch(items))
        self._send(200, payload, extra=f"{batch_call.HEADER}: {head}\r\n")


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
    collecting = config.get("data_collection")
    if collecting is not None:  # collect_model_data=True: the writer exists before init() makes collectors
        folder = Path(status_file).parent if status_file else Path.cwd()
        unique = f"{os.environ.get('AML_REPLICA_INDEX', '0')}-{os.getpid()}-{time.time_ns()}"
        collect.start(collecting, folder / "modeldata" / unique)
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
    _write_status(status_file, {"port": server.server_address[1], "pid": os.getpid(), "ready": True,
                                "modules": heavy_modules()})  # what the next warm process imports
    stop.wait()
    app.draining = True
    server.shutdown()  # no new connections
    deadline = time.monotonic() + drain
    while app.inflight and time.monotonic() < deadline:
        time.sleep(0.02)
    server.server_close()
    collect.stop(timeout=max(1.0, deadline - time.monotonic()))  # what run() collected reaches the spool
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
