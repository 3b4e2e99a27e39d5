"""A stdlib test double of the agent-facing REST routes, recording what it receives.

Routes are the real ones: each handler is registered under a path template of the generated contract
(``jupyter_aml.runtime.api_types``) and matched with the client's own ``match_path``; answers have the
contract's shapes (``T.Run`` records, ``T.JournalAck``...), so the fake cannot drift from the service.

State lives in ``FakeState`` outside the server, so ``stop()`` (which also severs open keep-alive
connections, like a kill -9) and ``start()`` on the same port simulate a service restart.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import socket
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import match_path
from jupyter_aml.statuses import TERMINAL_STATUSES

PREFIX = "/aml/api/v1"
TERMINAL = TERMINAL_STATUSES


@dataclass
class FakeRun:
    id: str
    workspace: str = "ws"
    experiment: str = "exp"
    status: str = "Queued"
    snapshot_id: str | None = None
    run_config: dict[str, Any] = field(default_factory=dict)
    error: Any = None
    exit_code: int | None = None

    def to_dict(self) -> T.Run:
        """The record as GET runs/{id} serves it (every field of the contract's ``Run``)."""
        config: T.RunConfig | None = None
        if self.run_config:
            config = cast(T.RunConfig, {"script": "", "arguments": [], "compute_target": "local",
                                        **self.run_config})
        return {
            "id": self.id, "number": 1, "display_number": "1", "experiment": self.experiment,
            "workspace": self.workspace,
            "parent_id": None, "root_id": self.id, "kind": "script", "display_name": self.id, "description": "",
            "status": self.status,  # type: ignore[typeddict-item]
            "created_at": "2026-01-01T00:00:00Z", "start_time": None, "end_time": None,
            "duration_seconds": None, "heartbeat_at": None, "submitter": "test", "compute_target": "local",
            "run_config": config, "snapshot_id": self.snapshot_id, "git": None, "error": self.error,
            "exit_code": self.exit_code, "tags": {}, "properties": {}, "metric_columns": None, "param_columns": None,
        }


@dataclass
class FakeState:
    token: str = "amlr_test"
    runs: dict[str, FakeRun] = field(default_factory=dict)
    snapshots: dict[str, bytes] = field(default_factory=dict)  # id -> zip bytes
    blobs: dict[str, bytes] = field(default_factory=dict)
    statuses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (run_id, body)
    logs: list[dict[str, Any]] = field(default_factory=list)
    records: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # (run, stream)
    acked: dict[tuple[str, str], int] = field(default_factory=dict)
    journal_posts: int = 0
    duplicates_ignored: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    blob_puts: list[str] = field(default_factory=list)
    missing_queries: list[list[str]] = field(default_factory=list)
    heartbeats: int = 0
    drop_journal_answers: int = 0  # process the next N journal posts but drop the connection unanswered
    max_journal_records: int | None = None  # 413 above this many records in one post
    reject_seqs: set[int] = field(default_factory=set)  # 422 for a post holding one of these seqs
    reject_error: tuple[int, str] = (422, "ValidationError")  # the error a post holding reject_seqs gets
    refuse_seqs: set[int] = field(default_factory=set)  # refused one by one in the answer's ``rejected``
    journal_batches: list[tuple[int, int]] = field(default_factory=list)  # (records, body bytes) per post
    requests: list[tuple[str, str]] = field(default_factory=list)
    answers: list[tuple[str, str, int]] = field(default_factory=list)  # (method, route template, status)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_run(self, run_id: str, files: dict[str, bytes] | None = None, **run_config: Any) -> FakeRun:
        run = FakeRun(id=run_id, run_config=run_config)
        if files is not None:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                for name, data in files.items():
                    info = zipfile.ZipInfo(name)
                    info.external_attr = (0o100755 if name.endswith(".sh") else 0o100644) << 16
                    zf.writestr(info, data)
            snap = hashlib.sha256(buf.getvalue()).hexdigest()
            self.snapshots[snap] = buf.getvalue()
            run.snapshot_id = snap
        self.runs[run_id] = run
        return run

    def status_sequence(self, run_id: str) -> list[str]:
        return [body["status"] for rid, body in self.statuses if rid == run_id]

    def journal(self, run_id: str, stream: str = "main") -> list[dict[str, Any]]:
        return self.records.get((run_id, stream), [])

    def log_text(self, stream: str | None = None) -> list[str]:
        return [line["text"] for line in self.logs if stream is None or line["stream"] == stream]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.conn_lock:
            self.server.conns.add(self.connection)

    def finish(self) -> None:
        with self.server.conn_lock:
            self.server.conns.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    # -- plumbing ------------------------------------------------------------------------------
    def _reply(self, status: int, body: Any = None, raw: bytes | None = None,
               ctype: str = "application/json") -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        route = getattr(self, "route", None)
        if route is not None:  # no lock: some handlers answer while holding state.lock (append is atomic)
            self.server.state.answers.append((*route, status))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._reply(status, {"error": {"code": code, "message": message}})

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        body = self._body()
        with state.lock:
            state.requests.append((method, url.path))
        if self.headers.get("Authorization") != f"Bearer {state.token}":
            return self._error(401, "Unauthorized", "bad token")
        if not url.path.startswith(PREFIX):
            return self._error(404, "NotFound", "no route")
        path = url.path[len(PREFIX):]
        found = match_path([t for (verb, t) in ROUTES if verb == method], path)
        if found is None:
            return self._error(404, "NotFound", f"no route {method} {path}")
        template, values = found
        self.route = (method, template)
        ROUTES[(method, template)](self, state, body, parse_qs(url.query), *values.values())
        return None

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # -- routes --------------------------------------------------------------------------------
    def get_run(self, state: FakeState, body: bytes, q: Any, ws: str, rid: str) -> None:
        run = state.runs.get(rid)
        if run is None:
            return self._error(404, "NotFound", f"run {rid}")
        self._reply(200, run.to_dict())

    def snapshot_zip(self, state: FakeState, body: bytes, q: Any, ws: str, sid: str) -> None:
        if sid not in state.snapshots:
            return self._error(404, "NotFound", f"snapshot {sid}")
        self._reply(200, raw=state.snapshots[sid], ctype="application/zip")

    def post_status(self, state: FakeState, body: bytes, q: Any, ws: str, rid: str) -> None:
        data = json.loads(body)
        run = state.runs[rid]
        with state.lock:
            if run.status in TERMINAL:
                return self._error(409, "Conflict", f"run is {run.status}")
            state.statuses.append((rid, data))
            run.status = data["status"]
            run.error = data.get("error")
            run.exit_code = data.get("exit_code")
        self._reply(200, run.to_dict())

    def heartbeat(self, state: FakeState, body: bytes, q: Any, ws: str, rid: str) -> None:
        with state.lock:
            state.heartbeats += 1
        answer: T.Heartbeat = {"status": state.runs[rid].status}  # type: ignore[typeddict-item]
        self._reply(200, answer)

    def post_logs(self, state: FakeState, body: bytes, q: Any, ws: str, rid: str) -> None:
        lines = json.loads(body)["lines"]
        with state.lock:
            state.logs.extend(lines)
        self._reply(200, {"count": len(lines)})

    def post_journal(self, state: FakeState, body: bytes, q: Any, ws: str, rid: str) -> None:
        data = json.loads(body)  # strict: a NaN token would fail here like in a real JSON parser
        stream, records = data["stream"], data["records"]
        with state.lock:
            state.journal_batches.append((len(records), len(body)))
        if state.max_journal_records is not None and len(records) > state.max_journal_records:
            return self._error(413, "PayloadTooLarge", "too many records")
        if any(rec["seq"] in state.reject_seqs for rec in records):
            return self._error(*state.reject_error, "records.v: bad value")
        with state.lock:
            state.journal_posts += 1
            key = (rid, stream)
            acked = state.acked.get(key, 0)
            rejected: list[T.JournalRejection] = []
            for index, rec in enumerate(records):
                if rec["seq"] <= acked:
                    state.duplicates_ignored += 1
                    continue
                if rec["seq"] in state.refuse_seqs:
                    rejected.append({"index": index, "seq": rec["seq"], "reason": "cannot store this value"})
                else:
                    state.records.setdefault(key, []).append(rec)
                acked = rec["seq"]
            state.acked[key] = acked
            drop = state.drop_journal_answers > 0
            if drop:
                state.drop_journal_answers -= 1
        if drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        ack: T.JournalAck = {"acked_seq": acked, "rejected": rejected}
        self._reply(200, ack)

    def blobs_missing(self, state: FakeState, body: bytes, q: Any, ws: str) -> None:
        hashes = json.loads(body)["hashes"]
        with state.lock:
            state.missing_queries.append(hashes)
        answer: T.MissingBlobs = {"missing": [h for h in hashes if h not in state.blobs]}
        self._reply(200, answer)

    def put_blob(self, state: FakeState, body: bytes, q: Any, ws: str, sha: str) -> None:
        if len(sha) != 64 or sha.strip("0123456789abcdef"):  # as the real route: check_sha256
            return self._error(400, "InvalidInput", f"{sha!r} is not a sha256 hex digest")
        if hashlib.sha256(body).hexdigest() != sha:
            return self._error(400, "InvalidInput", "hash mismatch")
        with state.lock:
            state.blobs[sha] = body
            state.blob_puts.append(sha)
        info: T.BlobInfo = {"sha256": sha, "size": len(body)}
        self._reply(201, info)  # 201 Created, as the service answers

    def post_files(self, state: FakeState, body: bytes, q: Any, ws: str, rid: str) -> None:
        files = json.loads(body)["files"]
        with state.lock:
            missing = [f for f in files if f["sha256"] not in state.blobs]
            if missing:
                return self._error(400, "InvalidInput", f"blob missing for {missing[0]['path']}")
            state.files.extend(files)
        self._reply(200, {"items": files})


_RUN = "/workspaces/{workspace}/runs/{run_id}"
ROUTES: dict[tuple[str, str], Any] = {  # (method, template of the real API) -> handler
    ("GET", _RUN): _Handler.get_run,
    ("GET", "/workspaces/{workspace}/snapshots/{snapshot_id}/zip"): _Handler.snapshot_zip,
    ("POST", _RUN + "/status"): _Handler.post_status,
    ("POST", _RUN + "/heartbeat"): _Handler.heartbeat,
    ("POST", _RUN + "/logs"): _Handler.post_logs,
    ("POST", _RUN + "/journal"): _Handler.post_journal,
    ("POST", "/workspaces/{workspace}/blobs/missing"): _Handler.blobs_missing,
    ("PUT", "/workspaces/{workspace}/blobs/{sha256}"): _Handler.put_blob,
    ("POST", _RUN + "/files"): _Handler.post_files,
}
SERVED = set(T.QUERY_PARAMETERS)
assert set(ROUTES) <= SERVED, sorted(set(ROUTES) - SERVED)  # the fake serves only real routes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], state: FakeState) -> None:
        self.state = state
        self.conns: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(addr, _Handler)


class FakeService:
    def __init__(self, state: FakeState | None = None, port: int = 0) -> None:
        self.state = state or FakeState()
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    def start(self) -> FakeService:
        for _ in range(50):
            try:
                self._server = _Server(("127.0.0.1", self.port), self.state)
                break
            except OSError:
                time.sleep(0.1)  # the port is still held by the previous incarnation
        else:
            raise RuntimeError(f"cannot bind port {self.port}")
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Like kill -9: stop listening and cut every open connection."""
        server = self._server
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with server.conn_lock:
            conns = list(server.conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None

    def __enter__(self) -> FakeService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
