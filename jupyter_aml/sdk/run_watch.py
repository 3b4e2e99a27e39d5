"""Following a run: its log lines, ``wait_for_completion`` and ``watch()`` (``run_events.RunEvents``)."""

from __future__ import annotations

import io
import os
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from jupyter_aml.errors import AMLError, InvalidInput
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.names import run_path_problem
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

    # -- log files (v1: get_details()['logFiles'], get_details_with_logs, get_all_logs) --------------------------
    def _log_sources(self) -> dict[str, tuple[str, dict[str, str]]]:
        """Each log file by v1's name -> (REST path, query): the log streams the service keeps
        (``azureml-logs/70_driver_log.txt`` is the script's output), then the files the run wrote to ``./logs``."""
        from jupyter_aml.runtime.api import build_path

        sources: dict[str, tuple[str, dict[str, str]]] = {}
        for name in self._api.log_files(self._ws, self.id)["items"]:
            path = build_path("/workspaces/{workspace}/runs/{run_id}/logfiles/content", workspace=self._ws,
                              run_id=self.id)
            sources[name] = (path, {"name": name})
        files = build_path("/workspaces/{workspace}/runs/{run_id}/files/content", workspace=self._ws, run_id=self.id)
        for item in self._api.list_run_files(self._ws, self.id, prefix="logs/")["items"]:
            sources.setdefault(item["path"], (files, {"path": item["path"]}))
        return sources

    def _log_file_urls(self) -> dict[str, str]:
        """``logFiles`` of ``get_details()``: name -> a URL of this service (``get_all_logs`` fetches them)."""
        base = self._api.http.base_url
        return {name: f"{base}{path}?{urllib.parse.urlencode(query)}"
                for name, (path, query) in self._log_sources().items()}

    def get_details_with_logs(self) -> dict[str, Any]:
        """``get_details()`` with each log file's text in ``logFiles`` instead of its URL."""
        details: dict[str, Any] = self.get_details()  # type: ignore[attr-defined]
        texts = {}
        for name, (path, query) in self._log_sources().items():
            buffer = io.BytesIO()
            self._api.http.stream_download(path, buffer, params=query)
            texts[name] = buffer.getvalue().decode("utf-8", errors="replace")
        details["logFiles"] = texts
        return details

    def get_all_logs(self, destination: str | os.PathLike[str] | None = None) -> list[str]:
        """Download every log file of the run under ``destination`` (default: a folder named as the run id in
        the current folder), at their names; returns the paths written."""
        folder = Path(destination) if destination is not None else Path.cwd() / self.id
        if folder.exists() and not folder.is_dir():
            raise InvalidInput(f"{str(folder)!r} exists and is not a directory")
        written = []
        for name, (path, query) in self._log_sources().items():
            if run_path_problem(name) is not None:
                continue  # a stored name that could escape the folder is never written
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            self._api.http.stream_download(path, target, params=query)
            written.append(str(target))
        return written

    # -- the push channel ---------------------------------------------------------------------------------
    def watch(self, timeout: float | None = None, *, children: bool = False) -> RunEvents:
        """The run's events as they happen: ``RunEvent`` (status and record changes, also of child runs),
        ``LogEvent``, ``MetricEvent`` (points with the steps the service stored) and ``FilesEvent``.

        Starts with what the run already has (its record, log lines and scalar points), reconnects by
        itself, and ends when the run reaches a final status, after ``timeout`` seconds, or on
        ``close()`` (from any thread). With ``children``, the metrics and files of its child runs
        (also ones created later) too."""
        return RunEvents(self, timeout, children=children)
