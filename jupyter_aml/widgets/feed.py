"""The live feed of one run: one background thread that applies ``Run.watch()`` to a ``RunState``.

``Run.watch()`` subscribes to the push channel first, then yields what the service already holds (the run
record, its log lines and scalar points) as typed events, then the pushed ones, reconnecting by itself; it
ends when the run reaches a final status. The feed adds what the view shows beyond the stream, read
through the SDK once the subscription is live: child runs, every metric's summary (lists, tables and
images have no push event) and the output files, again when a child run changes and at the end.

``stop()`` (from any thread) closes the watch, which wakes its blocked read at once. Stdlib only.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from jupyter_aml.errors import AMLError, NotFound
from jupyter_aml.runtime import api_types as T
from jupyter_aml.widgets.state import RunState

if TYPE_CHECKING:
    from jupyter_aml.sdk.run import Run
    from jupyter_aml.sdk.run_events import RunEvents

log = logging.getLogger(__name__)

HISTORY_POINTS = 2000  # a series the stream left gaps in is read again, thinned to this many points
RETRY_FIRST, RETRY_MAX = 0.5, 10.0  # seconds between attempts while the service cannot be reached

OnChange = Callable[[set[str]], None]


class RunFeed:
    """Keeps ``state`` up to date for ``run`` and calls ``on_change(parts)`` from its thread."""

    def __init__(
        self,
        run: Run,
        state: RunState | None = None,
        on_change: OnChange | None = None,
        *,
        history_points: int = HISTORY_POINTS,
    ) -> None:
        self.run = run
        self.state = state or RunState(run.id)
        self.on_change = on_change
        self.history_points = history_points
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._watch: RunEvents = run.watch(children=True)
        self._idle = threading.Event()  # stands in for ``connected`` once the watch is gone
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> RunFeed:
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name=f"aml-run-feed-{self.run.id}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            watch = self._watch
        watch.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def connected(self) -> threading.Event:
        """Set while the push channel is subscribed."""
        with self._lock:
            return self._idle if self.finished.is_set() else self._watch.connected

    @property
    def events_received(self) -> int:
        """Events the push channel delivered (not those of the REST catch-up)."""
        with self._lock:
            return self._watch.events_received

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive

    # -- the thread -------------------------------------------------------------------------------------
    def _main(self) -> None:
        delay = RETRY_FIRST
        try:
            while not self._stop.is_set():
                try:
                    self._follow(self._watch)
                    break  # the run ended, or stop()
                except NotFound as exc:
                    self._set_error(str(exc))
                    break
                except AMLError as exc:
                    self._set_error(f"cannot reach the service: {exc}")
                if self._stop.wait(delay):
                    break
                delay = min(2 * delay, RETRY_MAX)
                with self._lock:
                    self._watch.close()
                    self._watch = self.run.watch(children=True)
        except Exception as exc:  # a bug must not kill the kernel's output silently
            log.exception("run feed for %s failed", self.run.id)
            self._set_error(f"live updates stopped: {exc.__class__.__name__}: {exc}")
        finally:
            self._watch.close()
            with contextlib.suppress(AMLError):
                for _ in self._watch:  # a closed watch ends at once, on this thread: it closes its connection
                    pass
            self.finished.set()

    def _follow(self, watch: RunEvents) -> None:
        extras_loaded = final_look = False
        seen_live = False  # the run was seen before its end: the end needs one more look
        for event in watch:
            changed = self.state.apply(event)
            seen_live = seen_live or (self.state.run is not None and not self.state.terminal)
            if self.state.error is not None:
                self.state.error = None
                changed.add("run")
            if not extras_loaded:
                # The first event comes from the catch-up, i.e. after the subscription: nothing is missed.
                changed |= self._load_extras()
                extras_loaded = True
            elif event["type"] == "run" and event["run"]["id"] != self.run.id:
                changed |= self.state.load_summaries(self.run.get_metric_summaries(recursive=True))
            changed |= self._fill_gaps()
            if self.state.terminal and seen_live and not final_look:
                # One last look (files, children's metrics) while the watch still holds this thread's
                # connection: the watch closes it when it ends.
                with contextlib.suppress(AMLError):
                    changed |= self._load_extras()
                final_look = True
            self._notify(changed)
            if self._stop.is_set():
                return

    # -- reads through the SDK --------------------------------------------------------------------------
    def _load_extras(self) -> set[str]:
        run, st = self.run, self.state
        changed = st.load_children(child.get_record() for child in run.get_children())
        changed |= st.load_summaries(run.get_metric_summaries(recursive=True))
        changed |= st.load_files(run.get_files())
        return changed | self._fill_gaps()

    def _fill_gaps(self) -> set[str]:
        """Scalars whose summary counts more points than the stream brought (or left a gap in)."""
        changed: set[str] = set()
        for summary in list(self.state.summaries.values()):
            if summary["kind"] == "scalar" and self.state.needs_history(summary):
                history: T.MetricHistory = self.run.get_metric_history(summary["name"], self.history_points)
                changed |= self.state.load_metric_history(history)
            elif self.state.needs_v1(summary):  # a confusion matrix, accuracy table, predictions, residuals
                history = self.run.get_metric_history(summary["name"])
                changed |= self.state.load_v1(history, list(history["values"]))
        return changed

    def _notify(self, changed: set[str]) -> None:
        if changed and self.on_change is not None and not self._stop.is_set():
            try:
                self.on_change(changed)
            except Exception:
                log.exception("run view update failed")

    def _set_error(self, message: str | None) -> None:
        if self.state.error != message:
            self.state.error = message
            self._notify({"run"})


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes (for tests and ``RunDetails.wait``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
