"""Test helper: no run agent or script started by a test may outlive it."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def kill_processes_using(root: Path) -> None:
    """Kill every process whose environment names ``root`` (agents and scripts carry it in AML_* variables)."""
    marker = f"={root}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker in (proc / "environ").read_bytes():
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue
