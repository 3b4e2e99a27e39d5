"""``Run.watch()``: a run's push events as typed events, with catch-up, reconnects and an end.

``RunEvents`` subscribes to the push channel first, then catches up from REST, so nothing is missed;
what the catch-up already delivered is dropped from the stream (log lines by id, metric points by their
index in the series: ``MetricEvent.total``). A broken stream is reopened with backoff and followed by
another catch-up. It ends when the run reaches a final status, after ``timeout`` seconds, or on
``close()``, which any thread may call (it wakes a blocked read at once).
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from jupyter_aml.errors import AMLError, ServiceUnavailable
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.http import backoff_delays
from jupyter_aml.runtime.sse import READ_TIMEOUT, EventStream
from jupyter_aml.statuses import TERMINAL_STATUSES

if TYPE_CHECKING:
    from jupyter_aml.sdk.run_base import RunBase

LOG_PAGE = 5000
MAX_FOLLOWED_RUNS = 100  # run_id parameters on the push channel's URL


class Delivered:
    """What one ``watch()`` already delivered, to drop repeats after a catch-up or a reconnect.

    With ``children``, the runs followed grow with each child run that appears (``resubscribe`` asks
    for a stream that carries the new child's metrics too)."""

    def __init__(self, run_id: str, children: bool = False) -> None:
        self.run_id = run_id
        self.children = children
        self.followed = {run_id}
        self.records: dict[str, dict[str, Any]] = {}
        self.last_log_id = 0  # of the watched run
        self.totals: dict[tuple[str, str], int] = {}  # (run id, scalar series) -> points delivered
        self.resubscribe = False

    @property
    def terminal(self) -> bool:
        record = self.records.get(self.run_id)
        return record is not None and record.get("status") in TERMINAL_STATUSES

    def _ours(self, run_id: str) -> bool:
        """Events of other runs come through only when the stream is the whole workspace's."""
        return not self.children or run_id in self.followed

    def run(self, event: T.RunEvent) -> T.RunEvent | None:
        record = event["run"]
        rid = record["id"]
        if rid != self.run_id:
            if not self.children:
                return event  # a child run's change (the parent's subscription carries them)
            if rid not in self.followed:
                if record.get("parent_id") not in self.followed:
                    return None
                self.followed.add(rid)
                self.resubscribe = True
        if self.records.get(rid) == dict(record):
            return None
        self.records[rid] = dict(record)
        return event

    def log(self, event: T.LogEvent) -> T.LogEvent | None:
        if event["run_id"] != self.run_id:
            return event if self._ours(event["run_id"]) else None
        lines = [line for line in event["lines"] if line["id"] > self.last_log_id]
        if not lines:
            return None
        self.last_log_id = max(line["id"] for line in lines)
        return {"type": "log", "run_id": event["run_id"], "lines": lines}

    def metric(self, event: T.MetricEvent) -> T.MetricEvent | None:
        if not self._ours(event["run_id"]):
            return None
        key = (event["run_id"], event["name"])
        known = self.totals.get(key, 0)
        first = event["total"] - len(event["steps"])  # the series index of the event's first point
        skip = max(0, known - first)
        if skip >= len(event["steps"]):
            return None
        self.totals[key] = event["total"]
        if not skip:
            return event
        return {**event, "steps": event["steps"][skip:], "values": event["values"][skip:],
                "times": event["times"][skip:]}

    def accept(self, event: T.AMLEvent) -> T.AMLEvent | None:
        kind = event["type"]
        if kind == "run":
            return self.run(cast(T.RunEvent, event))
        if kind == "log":
            return self.log(cast(T.LogEvent, event))
        if kind == "metric":
            return self.metric(cast(T.MetricEvent, event))
        if kind == "files":
            return event if self._ours(cast(T.FilesEvent, event)["run_id"]) else None
        return event


class RunEvents(Iterator[T.AMLEvent]):
    """The iterator ``Run.watch()`` returns. ``connected`` is set while the push channel is subscribed;
    ``events_received`` counts what the channel delivered (not the REST catch-up)."""

    def __init__(self, run: RunBase, timeout: float | None = None, *, children: bool = False) -> None:
        self.run = run
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.seen = Delivered(run.id, children)
        self.connected = threading.Event()
        self.events_received = 0
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._stream: EventStream | None = None
        self._events = self._generate()

    def __iter__(self) -> RunEvents:
        return self

    def __next__(self) -> T.AMLEvent:
        return next(self._events)

    def close(self) -> None:
        """End the watch (any thread): the next ``next()`` stops, a blocked read returns at once."""
        self._closed.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.shutdown()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    # -- the loop -------------------------------------------------------------------------------------
    def _generate(self) -> Iterator[T.AMLEvent]:
        try:
            yield from self._follow()
        finally:  # this thread's REST connection (catch-ups) is not needed any more
            self.connected.clear()
            self.run._api.http.close_thread_connection()

    def _follow(self) -> Iterator[T.AMLEvent]:
        seen = self.seen
        delays = backoff_delays(0.5, 10.0)
        while not self.closed:
            seen.resubscribe = False
            params = self._subscription()
            wide = not any(key == "run_id" for key, _ in params)  # the whole workspace: nothing to add
            stream = self._open(params)
            try:
                with contextlib.suppress(ServiceUnavailable):  # the service is away: retry below
                    yield from self._catch_up()
                if seen.terminal or self.closed:
                    return
                if stream is not None:
                    delays = backoff_delays(0.5, 10.0)
                    for event in self._read(stream):
                        self.events_received += 1
                        fresh = seen.accept(event)
                        if fresh is not None:
                            yield fresh
                        if seen.terminal:
                            yield from self._catch_up()  # lines and points stored with the final status
                            return
                        if seen.resubscribe and not wide:
                            break  # a new child run: a stream that carries its metrics too
            finally:
                self._drop(stream)
            if self.closed or (self.deadline is not None and time.monotonic() >= self.deadline):
                return
            if seen.resubscribe and not wide:
                continue  # the new stream's catch-up covers what the old one had not delivered
            pause = next(delays)
            if self.deadline is not None:
                pause = min(pause, max(0.0, self.deadline - time.monotonic()))
            if self._closed.wait(pause):
                return

    def _subscription(self) -> list[tuple[str, str]]:
        """The run and the runs followed with it; past MAX_FOLLOWED_RUNS the whole workspace, filtered here."""
        params = [("workspace", self.run._ws)]
        followed = self.seen.followed
        if len(followed) <= MAX_FOLLOWED_RUNS:
            params += [("run_id", rid) for rid in [self.run.id, *sorted(followed - {self.run.id})]]
        return params

    def _open(self, params: list[tuple[str, str]]) -> EventStream | None:
        """The push channel, subscribed; None when it cannot be opened (the catch-up still shows
        what the service has, and the next round tries again)."""
        api = self.run._api
        stream = EventStream(api.http, api.events_path(), params)
        with self._lock:
            if self.closed:
                return None
            self._stream = stream
        try:
            stream.open()
        except (OSError, http.client.HTTPException, AMLError):
            self._drop(stream)
            return None
        self.connected.set()
        return stream

    def _drop(self, stream: EventStream | None) -> None:
        if stream is None:
            return
        self.connected.clear()
        with self._lock:
            if self._stream is stream:
                self._stream = None
        stream.close()

    def _read(self, stream: EventStream) -> Iterator[T.AMLEvent]:
        deadline = self.deadline
        if deadline is not None:
            stream.set_read_timeout(min(READ_TIMEOUT, deadline - time.monotonic()))
        for event in stream:
            if self.closed:
                return
            yield event
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                stream.set_read_timeout(min(READ_TIMEOUT, left))

    def _catch_up(self) -> Iterator[T.AMLEvent]:
        """What the service holds now, as events not delivered yet (the run's state comes last)."""
        run, seen = self.run, self.seen
        api, ws = run._api, run._ws
        record = api.get_run(ws, run.id)  # NotFound ends the watch
        run._details = record
        run_event = seen.run({"type": "run", "run": record})
        cursor = seen.last_log_id
        while True:
            page = api.get_logs(ws, run.id, after=cursor, limit=LOG_PAGE)
            if page["items"]:
                cursor = page["items"][-1]["id"]
                log_event = seen.log({"type": "log", "run_id": run.id, "lines": page["items"]})
                if log_event is not None:
                    yield log_event
            if len(page["items"]) < LOG_PAGE:
                break
        if seen.children:
            for child in api.list_children(ws, run.id, recursive=True)["items"]:
                child_event = seen.run({"type": "run", "run": child})
                if child_event is not None:
                    yield child_event
        for history in api.metric_values(ws, run.id, recursive=seen.children)["items"]:
            if history["kind"] != "scalar":
                continue
            event: T.MetricEvent = {
                "type": "metric", "run_id": history["run_id"], "name": history["name"],
                "total": history["total"], "steps": list(history.get("steps") or []),
                "values": list(history["values"]), "times": list(history.get("times") or []),
            }
            fresh = seen.metric(event)
            if fresh is not None:
                yield fresh
        if run_event is not None:  # last, so that a final status comes after its lines and points
            yield run_event
