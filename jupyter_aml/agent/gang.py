"""The agents of one multi-node run talk to each other: node 0's agent leads, the others follow.

Node 0's agent listens on ``AML_GANG_PORT``; every other node's agent connects once its snapshot and
environment are ready and says ``hello`` with the ports of its TensorFlow tasks. Only when every node has said
hello does the leader answer ``go`` (with the TensorFlow cluster), so no process of the run starts before all
of its nodes are ready. Then a follower reports ``done`` (its processes all exited 0) or ``failed`` (the
rank, its exit code and its last stderr lines); the leader sends ``stop`` to every follower when a rank fails
anywhere, on cancel, or when it ends. A follower whose connection to the leader drops stops its processes (the
leader is gone); the leader treats a follower whose connection drops before ``done`` as a lost node.

One JSON object per line over TCP; stdlib only.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from typing import Any

CONNECT_RETRY = 0.2


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.file = sock.makefile("rb")

    def send(self, message: dict[str, Any]) -> bool:
        data = (json.dumps(message) + "\n").encode()
        with self.lock:
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                return False

    def read(self) -> dict[str, Any] | None:
        try:
            line = self.file.readline()
        except (OSError, ValueError):
            return None
        if not line:
            return None
        try:
            value = json.loads(line)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()


class GangLeader:
    """Node 0's end: accepts the followers, collects their hellos, reports their outcomes as events."""

    def __init__(self, host: str, port: int, node_count: int) -> None:
        self.node_count = node_count
        self.events: queue.Queue[tuple[int, dict[str, Any]]] = queue.Queue()  # (node, message)
        self.hellos: dict[int, dict[str, Any]] = {}
        self.conns: dict[int, _Conn] = {}
        self.finished: set[int] = set()  # followers that said done or failed
        self.failure: dict[str, Any] | None = None  # a follower that failed before the gang formed
        self._lock = threading.Lock()
        self._closed = False
        self.server = socket.create_server((host, port), reuse_port=False)
        self.server.settimeout(0.5)
        threading.Thread(target=self._accept, name="aml-gang-accept", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                sock, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            threading.Thread(target=self._serve, args=(_Conn(sock),), daemon=True).start()

    def _serve(self, conn: _Conn) -> None:
        hello = conn.read()
        node = hello.get("hello") if hello else None
        if not isinstance(node, int) or not 0 < node < self.node_count:
            conn.close()
            return
        if hello is not None and "failed" in hello:  # it could not get ready (snapshot, environment)
            self.failure = hello
            self.finished.add(node)
            self.events.put((node, hello))
            conn.close()
            return
        with self._lock:
            if node in self.conns or self._closed:  # a second agent for one node: refuse it
                conn.send({"stop": f"node {node} already joined"})
                conn.close()
                return
            self.conns[node] = conn
            self.hellos[node] = hello or {}
        self.events.put((node, {"joined": node}))
        while True:
            message = conn.read()
            if message is None:
                if node not in self.finished:
                    self.events.put((node, {"lost": node}))
                return
            if "done" in message or "failed" in message:
                self.finished.add(node)
            self.events.put((node, message))

    def all_joined(self) -> bool:
        with self._lock:
            return len(self.hellos) == self.node_count - 1

    def broadcast(self, message: dict[str, Any]) -> None:
        with self._lock:
            conns = list(self.conns.values())
        for conn in conns:
            conn.send(message)

    def all_finished(self) -> bool:
        return len(self.finished) == self.node_count - 1

    def close(self, reason: str = "the run ended") -> None:
        self.broadcast({"stop": reason})
        self._closed = True
        with contextlib.suppress(OSError):
            self.server.close()
        with self._lock:
            conns = list(self.conns.values())
        for conn in conns:
            conn.close()


class GangFollower:
    """Another node's end: connects to the leader, says hello, waits for go; then hears stop."""

    def __init__(self, host: str, port: int, node: int) -> None:
        self.address = (host, port)
        self.node = node
        self.conn: _Conn | None = None
        self.stop = threading.Event()
        self.stop_reason = ""

    def join(self, hello: dict[str, Any], deadline: float, cancel: threading.Event) -> dict[str, Any]:
        """Connect (retrying until ``deadline``), say hello, return the leader's ``go``. Raises TimeoutError
        or ConnectionError (with why) when the gang does not form."""
        while True:
            try:
                sock = socket.create_connection(self.address, timeout=2.0)
                break
            except OSError as exc:
                if time.monotonic() >= deadline or cancel.is_set():
                    raise ConnectionError(f"node 0's agent at {self.address[0]}:{self.address[1]} did not "
                                          f"answer: {exc}") from None
                time.sleep(CONNECT_RETRY)
        sock.settimeout(max(1.0, deadline - time.monotonic()))
        self.conn = _Conn(sock)
        self.conn.send({"hello": self.node, **hello})
        try:
            go = self.conn.read()
        except TimeoutError:
            go = None
        if go is None or "go" not in go:
            reason = (go or {}).get("stop") or "node 0's agent did not start the run in time"
            raise ConnectionError(str(reason))
        sock.settimeout(None)
        threading.Thread(target=self._listen, name="aml-gang-listen", daemon=True).start()
        return dict(go["go"])

    def _listen(self) -> None:
        assert self.conn is not None
        while True:
            message = self.conn.read()
            if message is None:
                self.stop_reason = self.stop_reason or "the connection to node 0's agent was lost"
                self.stop.set()
                return
            if "stop" in message:
                self.stop_reason = str(message["stop"])
                self.stop.set()

    def send(self, message: dict[str, Any]) -> None:
        if self.conn is not None:
            self.conn.send(message)

    def report_failure(self, message: str, details: str = "", timeout: float = 20.0) -> bool:
        """Tell the leader this node failed before (or without) joining, so the run fails with the reason."""
        if self.conn is not None:
            return self.conn.send({"failed": self.node, "message": message, "details": details})
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection(self.address, timeout=2.0)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(CONNECT_RETRY)
        conn = _Conn(sock)
        sent = conn.send({"hello": self.node, "failed": self.node, "message": message, "details": details})
        conn.close()
        return sent

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
