"""Following a run: its log lines, ``wait_for_completion`` and the ``watch()`` stream of push events.

``watch()`` subscribes to the push channel first, then catches up from REST, so nothing is missed;
what the catch-up already delivered is dropped from the stream (log lines by id, metric points by their
index in the series: ``MetricEvent.total``). A broken stream is reopened with backoff and followed by
another catch-up. It ends when the run reaches a final status, or when ``timeout`` seconds pass.
"""

from __future__ import annotations

import contextlib
import http.client
import sys
import time
from collections.abc import Iterator
from typing import Any, cast

from jupyter_aml.errors import AMLError, ServiceUnavailable
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.http import backoff_delays
from jupyter_aml.runtime.sse import READ_TIMEOUT, EventStream
from jupyter_aml.sdk.run_base import RunBase
from jupyter_aml.statuses import TERMINAL_STATUSES

LOG_PAGE = 5000
MAX_FOLLOWED_RUNS = 100  # run_id parameters on the push channel's URL


class ActivityFailedError(AMLError):
    """Raised by ``wait_for_completion`` when the run did not complete (Azure: ActivityFailedException)."""

    code = "ActivityFailed"


class LogLines(list[T.LogLine]):
    """Log lines (a list, as before) that also know where to read on: ``next_cursor``."""

    def __init__(self, lines: list[T.LogLine], next_cursor: int) -> None:
        super().__init__(lines)
        self.next_cursor = next_cursor


class _Seen:
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


class RunWatch(RunBase):
    # -- logs -------------------------------------------------------------------------------------------
    def get_logs(self, after: int | None = None, limit: int | None = None) -> LogLines:
        """Log lines after the line id ``after``: ``[{id, stream, ts, text}]`` with ``.next_cursor``.

        With ``limit``, at most that many (one request); without, every line there is. Pass
        ``.next_cursor`` as ``after`` to read on from there (also once the run wrote more)."""
        lines, cursor = self.get_log_page(after, limit)
        return LogLines(lines, cursor)

    def get_log_page(self, after: int | None = None, limit: int | None = None) -> tuple[list[T.LogLine], int]:
        """``(lines, next_cursor)``: ``get_logs`` as a pair, for loops that follow a run's log."""
        cursor = after or 0
        lines: list[T.LogLine] = []
        while True:
            size = LOG_PAGE if limit is None else max(1, min(LOG_PAGE, limit - len(lines)))
            page = self._api.get_logs(self._ws, self.id, after=cursor, limit=size)
            lines += page["items"]
            if page["items"]:
                cursor = page["items"][-1]["id"]
            if len(page["items"]) < size or (limit is not None and len(lines) >= limit):
                return lines, cursor

    def _print_logs(self, after: int) -> int:
        """Print every log line after ``after`` to stdout/stderr; return the last id."""
        lines, cursor = self.get_log_page(after)
        for line in lines:
            print(line["text"], file=sys.stderr if line["stream"] == "stderr" else sys.stdout)
        return cursor

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        poll_seconds: float = 0.5,
    ) -> dict[str, Any]:
        """Block until the run ends; with ``show_output``, stream its log lines as they arrive."""
        last_id = 0
        while True:
            status = str(self._refresh()["status"])
            if show_output:
                last_id = self._print_logs(last_id)
            if status in TERMINAL_STATUSES:
                if show_output:
                    self._print_logs(last_id)  # lines that arrived with the final status
                    print(f"\nRun {self.id}: {status}")
                break
            time.sleep(poll_seconds)
        details: dict[str, Any] = self.get_details()  # type: ignore[attr-defined]
        if raise_on_error and status != "Completed":
            error = (details.get("error") or {}).get("message") or status
            raise ActivityFailedError(
                f"run {self.id} ended {status}: {error}",
                hint=f"see the logs with `aml run logs {self.id}`",
                details=details.get("error"),
            )
        return details

    # -- the push channel ---------------------------------------------------------------------------------
    def watch(self, timeout: float | None = None, *, include_children: bool = False) -> Iterator[T.AMLEvent]:
        """The run's events as they happen: ``RunEvent`` (status and record changes, also of child runs),
        ``LogEvent``, ``MetricEvent`` (points with the steps the service stored) and ``FilesEvent``.

        Starts with what the run already has (its record, log lines and scalar points), reconnects by
        itself, and ends when the run reaches a final status or after ``timeout`` seconds. With
        ``include_children``, the metrics and files of its child runs (also ones created later) too."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = _Seen(self.id, include_children)
        delays = backoff_delays(0.5, 10.0)
        while True:
            seen.resubscribe = False
            params = self._subscription(seen)
            wide = not any(key == "run_id" for key, _ in params)  # the whole workspace: nothing to add
            stream = self._open(params)
            try:
                with contextlib.suppress(ServiceUnavailable):  # the service is away: retry below
                    yield from self._catch_up(seen)
                if seen.terminal:
                    return
                if stream is not None:
                    delays = backoff_delays(0.5, 10.0)
                    for event in self._stream(stream, deadline):
                        fresh = seen.accept(event)
                        if fresh is not None:
                            yield fresh
                        if seen.terminal:
                            yield from self._catch_up(seen)  # lines and points stored with the final status
                            return
                        if seen.resubscribe and not wide:
                            break  # a new child run: a stream that carries its metrics too
            finally:
                if stream is not None:
                    stream.close()
            if deadline is not None and time.monotonic() >= deadline:
                return
            if seen.resubscribe and not wide:
                continue  # the new stream's catch-up covers what the old one had not delivered
            pause = next(delays)
            if deadline is not None:
                pause = min(pause, max(0.0, deadline - time.monotonic()))
            time.sleep(pause)

    def _subscription(self, seen: _Seen) -> list[tuple[str, str]]:
        """The run and the runs followed with it; past MAX_FOLLOWED_RUNS the whole workspace, filtered here."""
        params = [("workspace", self._ws)]
        if len(seen.followed) <= MAX_FOLLOWED_RUNS:
            params += [("run_id", rid) for rid in [self.id, *sorted(seen.followed - {self.id})]]
        return params

    def _open(self, params: list[tuple[str, str]]) -> EventStream | None:
        """The push channel, subscribed; None when it cannot be opened (the catch-up still shows
        what the service has, and the next round tries again)."""
        stream = EventStream(self._api.http, self._api.events_path(), params)
        try:
            return stream.open()
        except (OSError, http.client.HTTPException, AMLError):
            stream.close()
            return None

    @staticmethod
    def _stream(stream: EventStream, deadline: float | None) -> Iterator[T.AMLEvent]:
        if deadline is not None:
            stream.set_read_timeout(min(READ_TIMEOUT, deadline - time.monotonic()))
        for event in stream:
            yield event
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                stream.set_read_timeout(min(READ_TIMEOUT, left))

    def _catch_up(self, seen: _Seen) -> Iterator[T.AMLEvent]:
        """What the service holds now, as events ``seen`` has not delivered yet."""
        record = self._api.get_run(self._ws, self.id)  # NotFound ends the watch
        self._details = record
        run_event = seen.run({"type": "run", "run": record})
        cursor = seen.last_log_id
        while True:
            page = self._api.get_logs(self._ws, self.id, after=cursor, limit=LOG_PAGE)
            if page["items"]:
                cursor = page["items"][-1]["id"]
                log_event = seen.log({"type": "log", "run_id": self.id, "lines": page["items"]})
                if log_event is not None:
                    yield log_event
            if len(page["items"]) < LOG_PAGE:
                break
        if seen.children:
            for child in self._api.list_children(self._ws, self.id, recursive=True)["items"]:
                child_event = seen.run({"type": "run", "run": child})
                if child_event is not None:
                    yield child_event
        for history in self._api.metric_values(self._ws, self.id, recursive=seen.children)["items"]:
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
