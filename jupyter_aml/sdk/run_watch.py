"""Following a run: its log lines, ``wait_for_completion`` and ``watch()`` (``run_events.RunEvents``)."""

from __future__ import annotations

import sys
import time
from typing import Any

from jupyter_aml.errors import AMLError
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.run_base import RunBase
from jupyter_aml.sdk.run_events import LOG_PAGE, RunEvents
from jupyter_aml.statuses import TERMINAL_STATUSES

__all__ = ["ActivityFailedError", "LogLines", "RunEvents", "RunWatch"]


class ActivityFailedError(AMLError):
    """Raised by ``wait_for_completion`` when the run did not complete (Azure: ActivityFailedException)."""

    code = "ActivityFailed"


class LogLines(list[T.LogLine]):
    """Log lines (a list, as before) that also know where to read on: ``next_cursor``."""

    def __init__(self, lines: list[T.LogLine], next_cursor: int) -> None:
        super().__init__(lines)
        self.next_cursor = next_cursor


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
    def watch(self, timeout: float | None = None, *, children: bool = False) -> RunEvents:
        """The run's events as they happen: ``RunEvent`` (status and record changes, also of child runs),
        ``LogEvent``, ``MetricEvent`` (points with the steps the service stored) and ``FilesEvent``.

        Starts with what the run already has (its record, log lines and scalar points), reconnects by
        itself, and ends when the run reaches a final status, after ``timeout`` seconds, or on
        ``close()`` (from any thread). With ``children``, the metrics and files of its child runs
        (also ones created later) too."""
        return RunEvents(self, timeout, children=children)
