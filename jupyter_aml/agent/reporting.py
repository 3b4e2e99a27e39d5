"""Talking to the service while a run goes on: retries and the log shipper.

The heartbeat and the journal shipper live in ``jupyter_aml.runtime`` (interactive runs use them too).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from jupyter_aml.errors import AMLError, ServiceUnavailable
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import Api
from jupyter_aml.runtime.heartbeat import warn
from jupyter_aml.runtime.http import backoff_delays

R = TypeVar("R")

__all__ = ["LogShipper", "retry_until", "warn"]


def retry_until(fn: Callable[[], R], deadline: float, stop: threading.Event | None = None) -> R:
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


class LogShipper:
    """Batches log lines to ``POST {run}/logs``: a batch leaves at most ``interval`` s after its first line.

    Lines wait in memory while the service is away (up to ``cap`` lines; older ones are dropped and
    counted). A batch the service rejects as invalid is dropped with a warning in the agent log.
    Delivery is at-least-once: a batch whose answer was lost is sent again.
    """

    def __init__(self, api: Api, workspace: str, run_id: str, *, interval: float = 0.15, max_lines: int = 2000,
                 max_bytes: int = 512 * 1024, cap: int = 200_000) -> None:
        self.api, self.workspace, self.run_id = api, workspace, run_id
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
                    self.api.post_logs(self.workspace, self.run_id, {"lines": cast(list[T.LogLineIn], batch)})
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
