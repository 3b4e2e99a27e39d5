"""Test helper: no run agent or script started by a test may outlive it."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def kill_processes_using(root: Path) -> None:
    """Kill every process whose environment names ``root`` (agents and scripts carry it in AML_* variables),
    and the detached cluster hosts of computes under it (their command line names their state folder)."""
    marker = f"={root}".encode()
    state = str(root / "computes").encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            pid = int(proc.name)
            if state in (proc / "cmdline").read_bytes() and os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)  # a host leads its group: its worker processes go with it
            elif marker in (proc / "environ").read_bytes():
                os.kill(pid, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue
