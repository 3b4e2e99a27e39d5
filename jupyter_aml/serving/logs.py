"""A web service's log: the manager's events and every replica's output, one timestamped line each."""

from __future__ import annotations

import collections
import os
import time
from pathlib import Path

MAX_BYTES = 20 * 1024 * 1024


class ServiceLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the service's life

    def write(self, line: str, source: str = "manager") -> None:
        if self._handle.closed:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        self._handle.write(f"{stamp} [{source}] {line}\n")
        self._handle.flush()
        if self._handle.tell() > MAX_BYTES:
            self._handle.close()
            os.replace(self.path, self.path.with_suffix(".log.1"))
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def source(self, source: str):  # type: ignore[no-untyped-def]
        return lambda line: self.write(line, source)

    def tail(self, lines: int = 5000) -> list[str]:
        return tail_file(self.path, lines)

    def close(self) -> None:
        self._handle.close()


def tail_file(path: Path, lines: int) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return list(collections.deque((ln.rstrip("\n") for ln in handle), maxlen=max(1, lines)))
    except FileNotFoundError:
        return []
