"""Finding a run's processes through /proc (Linux): by process group and by the run's variables.

A process belongs to a run when its environment holds ``AML_RUN_ID=<run id>`` and, when given,
``AML_JOURNAL=<journal path>``: the journal path is unique per work folder, so two services (or two
test sessions) that happen to use the same run id never touch each other's processes.
"""

from __future__ import annotations

import os
import signal

from jupyter_aml.runtime.env import JOURNAL, RUN_ID


def read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _stat_fields(pid: int | str) -> list[bytes] | None:
    """Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]."""
    stat = read_bytes(f"/proc/{pid}/stat")
    if not stat:
        return None
    try:
        return stat[stat.rindex(b")") + 2:].split()
    except ValueError:
        return None


def is_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie waiting to be reaped)."""
    fields = _stat_fields(pid)
    return fields is None or fields[0] in (b"Z", b"X")


def belongs_to_run(pid: int, run_id: str, journal: str | None = None) -> bool | None:
    """Does /proc/<pid>/environ hold the run's id (and journal path)? None when it cannot be read."""
    data = read_bytes(f"/proc/{pid}/environ")
    if data is None:
        return None
    entries = set(data.split(b"\0"))
    if f"{RUN_ID}={run_id}".encode() not in entries:
        return False
    return journal is None or f"{JOURNAL}={journal}".encode() in entries


def _live_pids() -> list[int]:
    try:
        return [int(e) for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []


def group_members(pgid: int) -> list[int]:
    members = []
    for pid in _live_pids():
        fields = _stat_fields(pid)
        if fields and fields[0] not in (b"Z", b"X") and fields[2] == str(pgid).encode():
            members.append(pid)
    return members


def kill_run_group(pgid: int, run_id: str, sig: int = signal.SIGKILL, journal: str | None = None) -> bool:
    """Signal group ``pgid`` only if one of its live members belongs to the run (pid-reuse safe)."""
    if not any(belongs_to_run(pid, run_id, journal) for pid in group_members(pgid)):
        return False
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def ancestors(pid: int | None = None) -> set[int]:
    """``pid`` (default: this process) and its parents up to init: never swept."""
    pid = os.getpid() if pid is None else pid
    seen: set[int] = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        fields = _stat_fields(pid)
        if fields is None:
            break
        pid = int(fields[1])
    return seen


def kill_run_processes(run_id: str, sig: int = signal.SIGKILL, journal: str | None = None,
                       exclude: set[int] | None = None) -> list[int]:
    """Signal every live process whose environment says it belongs to the run (catches setsid'd
    daemons that left the script's process group), except this process and its ancestors."""
    skip = {*ancestors(), *(exclude or set())}
    hit = []
    for pid in _live_pids():
        if pid in skip or is_gone(pid) or not belongs_to_run(pid, run_id, journal):
            continue
        try:
            os.kill(pid, sig)
            hit.append(pid)
        except (ProcessLookupError, PermissionError):
            continue
    return hit


def run_journals(main: str | None) -> list[str | None]:
    """The journal paths a run's processes carry: the main one, and ``rank<R>.jsonl`` beside it for the ranks
    of a distributed run other than 0 (agent/ranks.py). ``[None]`` when the main one is not known."""
    if not main:
        return [None]
    folder = os.path.dirname(main)
    try:
        ranks = sorted(e for e in os.listdir(folder) if e.startswith("rank") and e.endswith(".jsonl"))
    except OSError:
        ranks = []
    return [main, *(os.path.join(folder, e) for e in ranks)]
