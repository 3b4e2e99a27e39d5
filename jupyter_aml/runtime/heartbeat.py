"""The one heartbeat loop: tells the service a run is alive and hears back when it has ended elsewhere.

Both a submitted run's agent and an interactive (notebook) run beat through ``Heartbeat``. The answer
carries the run's status; a final one (someone canceled the run from the studio, REST or the CLI)
calls ``on_end`` once, so the caller stops the script or the notebook session.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from jupyter_aml.errors import AMLError
from jupyter_aml.runtime.api import Api
from jupyter_aml.statuses import TERMINAL_STATUSES


def warn(message: str, stream: TextIO | None = None) -> None:
    """A line in the process's own log (the agent's stderr, which the backend sends to agent.log)."""
    out = stream or sys.stderr
    try:
        out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} aml-agent: {message}\n")
        out.flush()
    except (OSError, ValueError):
        pass


class Heartbeat:
    """``POST {run}/heartbeat`` every ``interval`` s; ``on_end(reason)`` once the answer is a final status."""

    def __init__(self, api: Api, workspace: str, run_id: str, interval: float, on_end: Callable[[str], None],
                 *, on_warning: Callable[[str], None] = warn, name: str = "aml-heartbeat",
                 beat_at_start: bool = True) -> None:
        self.api, self.workspace, self.run_id = api, workspace, run_id
        self.beat_at_start = beat_at_start  # False for a run the service has just created with a fresh beat
        self.interval, self.on_end, self.on_warning = interval, on_end, on_warning
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.failures = 0
        self.ended: str | None = None  # the final status the service answered, once it did

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def beat(self) -> bool:
        """One heartbeat; False when the service could not be told (it may be restarting)."""
        try:
            answer = self.api.heartbeat(self.workspace, self.run_id)
        except AMLError as exc:
            self.failures += 1
            if self.failures in (1, 10, 100):
                self.on_warning(f"heartbeat failed ({self.failures}x): {exc}")
            return False
        status = answer.get("status") if isinstance(answer, dict) else None
        if status in TERMINAL_STATUSES and self.ended is None:  # nobody takes this run's results any more
            self.ended = str(status)
            self.on_end(f"the service reports the run as {status}")
        return True

    def _run(self) -> None:
        ok = self.beat() if self.beat_at_start else True
        # after a failure, beat every second so a restarted service hears from the run at once
        while not self._stop.wait(self.interval if ok else min(self.interval, 1.0)):
            ok = self.beat()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)


class HeartbeatPool:
    """One thread that beats every ``Heartbeat`` added to it, each on its own interval: a notebook that starts
    many interactive runs keeps one heartbeat thread instead of starting one per ``start_logging()``.

    The thread starts with the first heartbeat added and ends when none is left. A beat's ``on_end`` runs on
    this thread, so a caller whose ``on_end`` takes long (draining a journal) hands it to a thread of its own.
    """

    def __init__(self, name: str = "aml-heartbeats") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._due: dict[Heartbeat, float] = {}  # each heartbeat's next beat (time.monotonic())
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, heartbeat: Heartbeat) -> None:
        with self._lock:
            self._due[heartbeat] = time.monotonic() + (0.0 if heartbeat.beat_at_start else heartbeat.interval)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._wake.set()

    def remove(self, heartbeat: Heartbeat) -> None:
        with self._lock:
            self._due.pop(heartbeat, None)
        self._wake.set()

    def __len__(self) -> int:
        return len(self._due)

    def _run(self) -> None:
        while True:
            with self._lock:
                for stopped in [h for h in self._due if h._stop.is_set()]:
                    del self._due[stopped]
                if not self._due:
                    self._thread = None  # the next add() starts a new thread
                    return
                now = time.monotonic()
                ready = [h for h, due in self._due.items() if due <= now]
                soonest = min(self._due.values())
            for heartbeat in ready:
                try:
                    ok = heartbeat.beat()
                except Exception as exc:  # one run's trouble must not stop the others' beats
                    heartbeat.on_warning(f"heartbeat failed: {exc!r}")
                    ok = False
                # after a failure, beat every second so a restarted service hears from the run at once
                later = time.monotonic() + (heartbeat.interval if ok else min(heartbeat.interval, 1.0))
                with self._lock:
                    if heartbeat in self._due:
                        self._due[heartbeat] = later
            if not ready:
                self._wake.wait(max(0.0, soonest - time.monotonic()))
                self._wake.clear()
