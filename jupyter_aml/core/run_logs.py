"""A run's log lines as v1's log files: ``get_details()['logFiles']`` names and their text.

The service keeps log lines by stream (``stdout``, ``stderr``, ``agent``, ...), not files. v1 users read
``azureml-logs/70_driver_log.txt`` (the script's output), so the streams are offered under v1's names: the
script's stdout and stderr interleaved as they came as the driver log, the agent's own messages (snapshot,
environment build) as the execution log, and any other stream as ``azureml-logs/<stream>.txt``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlalchemy import select

from jupyter_aml.core.run_views import RunReader
from jupyter_aml.errors import NotFound
from jupyter_aml.store.tables import LogLineRow

DRIVER_LOG = "azureml-logs/70_driver_log.txt"
EXECUTION_LOG = "azureml-logs/55_azureml-execution.txt"
NAMED: dict[str, tuple[str, ...]] = {DRIVER_LOG: ("stdout", "stderr"), EXECUTION_LOG: ("agent",)}
_STREAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
PAGE = 5000


def _streams_of(name: str) -> tuple[str, ...] | None:
    if name in NAMED:
        return NAMED[name]
    prefix, suffix = "azureml-logs/", ".txt"
    stream = name[len(prefix):-len(suffix)] if name.startswith(prefix) and name.endswith(suffix) else ""
    if _STREAM.fullmatch(stream) and all(stream not in s for s in NAMED.values()):
        return (stream,)
    return None


class RunLogs(RunReader):
    def log_file_names(self, workspace: str, run_id: str) -> list[str]:
        """The log files the run has lines for, driver log first."""
        with self.db.read() as s:
            self.row(s, workspace, run_id)
            streams = set(s.scalars(select(LogLineRow.stream).where(LogLineRow.run_id == run_id).distinct()))
        names = [name for name, parts in NAMED.items() if streams & set(parts)]
        known = {p for parts in NAMED.values() for p in parts}
        names += sorted(f"azureml-logs/{st}.txt" for st in streams - known if _STREAM.fullmatch(st))
        return names

    def log_file_text(self, workspace: str, run_id: str, name: str) -> Iterator[str]:
        """The text of one log file, a page of lines at a time (a long log is never held whole)."""
        streams = _streams_of(name)
        if streams is None:
            raise NotFound(f"log file {name!r} not found in run {run_id!r}",
                           hint="the run's log files are the keys of run.get_details()['logFiles']")
        with self.db.read() as s:
            self.row(s, workspace, run_id)
        after = 0
        while True:
            with self.db.read() as s:
                rows = list(s.execute(
                    select(LogLineRow.id, LogLineRow.text)
                    .where(LogLineRow.run_id == run_id, LogLineRow.id > after, LogLineRow.stream.in_(streams))
                    .order_by(LogLineRow.id).limit(PAGE)))
            if not rows:
                return
            after = rows[-1][0]
            yield "".join(f"{text}\n" for _, text in rows)
            if len(rows) < PAGE:
                return
