"""Talking to the service while a run goes on: retries, the log shipper and the heartbeat."""

from __future__ import annotations

import collections
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from jupyter_aml.errors import AMLError, ServiceUnavailable
from jupyter_aml.runtime.http import ServiceClient, backoff_delays

T = TypeVar("T")


def retry_until(fn: Callable[[], T], deadline: float, stop: threading.Event | None = None) -> T:
    """Call ``fn`` until it does not raise ``ServiceUnavailable`` or ``deadline`` (monotonic) passes."""
    delays = backoff_delays()
    while True:
        try:
            return fn()
        except ServiceUnavailable:
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop.is_set()):
                raise
            time.sleep(min(next(delays), left))


def warn(message: str, stream: TextIO | None = None) -> None:
    """A line in the agent's own log (its stderr, which the backend sends to agent.log)."""
    out = stream or sys.stderr
    try:
        out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} aml-agent: {message}\n")
        out.flush()
    except (OSError, ValueError):
        pass


class LogShipper:
    """Batches log lines to ``POST {run}/logs``: a batch leaves at most ``interval`` s after its first line.

    Lines wait in memory while the service is away (up to ``cap`` lines; older ones are dropped and
    counted). A batch the service rejects as invalid is dropped with a warning in the agent log.
    Delivery is at-least-once: a batch whose answer was lost is sent again.
    """

    def __init__(self, client: ServiceClient, path: str, *, interval: float = 0.15, max_lines: int = 2000,
                 max_bytes: int = 512 * 1024, cap: int = 200_000) -> None:
        self.client, self.path = client, path
        self.interval, self.max_lines, self.max_bytes, self.cap = interval, max_lines, max_bytes, cap
        self._buf: collections.deque[dict[str, Any]] = collections.deque()
        self._cond = threading.Condition()
        self._closing = False
        self._deadline = float("inf")
        self._dropped = 0
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="aml-log-shipper", daemon=True)

    def start(self) -> LogShipper:
        self._thread.start()
        return self

    def add(self, stream: str, text: str) -> None:
        line = {"stream": stream, "text": text, "ts": time.time()}
        with self._cond:
            self._buf.append(line)
            if len(self._buf) > self.cap:
                self._buf.popleft()
                self._dropped += 1
            self._cond.notify()

    def close(self, deadline: float) -> bool:
        """Send what is buffered until ``deadline`` (monotonic); True if everything left."""
        with self._cond:
            self._closing, self._deadline = True, deadline
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(max(0.0, deadline - time.monotonic()) + 1.0)
        with self._cond:
            return not self._buf and not self._thread.is_alive()

    def _take(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        size = 0
        with self._cond:
            if self._dropped:
                self._buf.appendleft({"stream": "agent", "ts": time.time(),
                                      "text": f"[{self._dropped} log lines dropped while the service was away]"})
                self._dropped = 0
            while self._buf and len(batch) < self.max_lines and (not batch or size < self.max_bytes):
                line = self._buf.popleft()
                size += len(line["text"]) + 40
                batch.append(line)
        return batch

    def _run(self) -> None:
        delays = backoff_delays()
        while True:
            with self._cond:
                while not self._buf and not self._closing:
                    self._cond.wait()
                if not self._buf and self._closing:
                    return
                full = len(self._buf) >= self.max_lines
            if not full and not self._closing:
                time.sleep(self.interval)  # let a burst of lines join this batch
            batch = self._take()
            while batch:
                try:
                    self.client.post(self.path, {"lines": batch})
                    self.sent += len(batch)
                    delays = backoff_delays()
                    break
                except ServiceUnavailable:
                    if self._closing and time.monotonic() >= self._deadline:
                        with self._cond:
                            self._buf.clear()
                        return
                    time.sleep(min(next(delays), max(0.05, self._deadline - time.monotonic())))
                except AMLError as exc:
                    warn(f"log batch of {len(batch)} lines rejected: {exc}")
                    break


class Heartbeat:
    """``POST {run}/heartbeat`` every ``interval`` s; calls ``on_cancel`` when the answer says Canceled."""

    def __init__(self, client: ServiceClient, path: str, interval: float,
                 on_cancel: Callable[[str], None]) -> None:
        self.client, self.path, self.interval, self.on_cancel = client, path, interval, on_cancel
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aml-heartbeat", daemon=True)
        self.failures = 0

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def beat(self) -> bool:
        try:
            answer = self.client.post(self.path, {})
        except AMLError as exc:
            self.failures += 1
            if self.failures in (1, 10, 100):
                warn(f"heartbeat failed ({self.failures}x): {exc}")
            return False
        status = answer.get("status") if isinstance(answer, dict) else None
        if status in ("Canceled", "Failed", "Completed"):  # nobody will take this run's results any more
            self.on_cancel(f"the service reports the run as {status}")
        return True

    def _run(self) -> None:
        ok = self.beat()
        # after a failure, beat every second so a restarted service hears from the run at once
        while not self._stop.wait(self.interval if ok else min(self.interval, 1.0)):
            ok = self.beat()

    def stop(self) -> None:
        self._stop.set()
