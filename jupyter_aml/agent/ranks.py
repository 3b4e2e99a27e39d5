"""Running a distributed run's processes on this node: one process of the script per local rank.

Each process gets its rank's variables (agent/distributed.py), a session of its own (killed with the agent),
its own journal stream (``rank<R>``; rank 0 keeps the main one), and its own log: stdout and stderr go, as
they come, to the log stream ``70_driver_log_<R>`` (v1's ``azureml-logs/70_driver_log_<R>.txt`` in
``logFiles``) and to that file in the run's files at the end.

The first process to exit with a code other than 0 fails the run: the others here are stopped (SIGTERM, then
SIGKILL after the grace period), the other nodes are told to stop (agent/gang.py), and the error names the
rank. Cancel stops every process. Node 0 reports the run's status; the other nodes report to node 0 only.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_aml.runtime import env as E

from .distributed import Layout, free_ports, log_stream, rank_env, tf_cluster
from .gang import GangFollower, GangLeader
from .tracebacks import script_error

if TYPE_CHECKING:
    from .main import Agent, Outcome

POLL = 0.2
LOG_DIR = "azureml-logs"


@dataclass
class RankProc:
    rank: int
    proc: subprocess.Popen[bytes]
    log: Any
    tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=40))
    readers: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Failure:
    message: str
    details: str = ""
    code: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # the exception's fields (tracebacks.script_error)


def _exit_text(code: int) -> str:
    return f"exited with code {code}" if code >= 0 else f"was killed by signal {signal.Signals(-code).name}"


class RankRunner:
    """The processes of this node, the gang channel, and the rules of a distributed run's end."""

    def __init__(self, agent: Agent, layout: Layout) -> None:
        self.agent, self.layout, self.cfg = agent, layout, agent.cfg
        self.node = self.cfg.node_rank
        self.procs: list[RankProc] = []
        self.leader: GangLeader | None = None
        self.follower: GangFollower | None = None
        self.log_dir = self.cfg.run_dir / LOG_DIR
        self.master_port = self.cfg.master_port or free_ports(1)[0]  # one node: any free port here
        self._reported = self._closed = False

    # -- forming the gang (before any process starts) ----------------------------------------------------
    def open(self) -> None:
        """Node 0 of a multi-node run listens for the other nodes as early as possible."""
        if self.layout.node_count > 1 and self.node == 0:
            self.leader = GangLeader(self.cfg.node_host, self.cfg.gang_port, self.layout.node_count)

    def form(self) -> dict[int, str]:
        """Wait until every node is ready; the TensorFlow task address of every rank (``host:port``)."""
        host = self.cfg.node_host
        mine = list(self.layout.ranks_of(self.node))
        ports = free_ports(len(mine), host) if self.layout.framework == "TensorFlow" else []
        addresses = {rank: f"{host}:{port}" for rank, port in zip(mine, ports, strict=False)}
        if self.layout.node_count == 1:
            return addresses
        deadline = time.monotonic() + self.cfg.gang_timeout
        if self.follower is None and self.node > 0:
            self.follower = GangFollower(self.cfg.master_addr, self.cfg.gang_port, self.node)
        if self.follower is not None:
            go = self.follower.join({"tasks": {str(r): a for r, a in addresses.items()}}, deadline,
                                    self.agent.cancel_event)
            return {int(r): str(a) for r, a in (go.get("tasks") or {}).items()}
        assert self.leader is not None
        self.agent.say(f"waiting for the run's other {self.layout.node_count - 1} node(s)")
        while not self.leader.all_joined():
            self.agent._check_cancel()
            if self.leader.failure is not None:
                raise ConnectionError(str(self.leader.failure.get("message") or "another node failed"))
            if time.monotonic() >= deadline:
                raise TimeoutError(f"only {len(self.leader.hellos) + 1} of the run's {self.layout.node_count} nodes "
                                   f"were ready within {self.cfg.gang_timeout:g} s")
            time.sleep(POLL)
        for hello in self.leader.hellos.values():
            addresses.update({int(r): str(a) for r, a in (hello.get("tasks") or {}).items()})
        self.leader.broadcast({"go": {"tasks": {str(r): a for r, a in addresses.items()}}})
        self.agent.say(f"all {self.layout.node_count} nodes are ready")
        return addresses

    # -- the processes -------------------------------------------------------------------------------------
    def start(self, cmd: list[str], env: dict[str, str], addresses: dict[int, str]) -> None:
        from .main import _die_with_agent

        layout = self.layout
        tf = tf_cluster(layout, addresses) if layout.framework == "TensorFlow" else None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        pids = []
        for rank in layout.ranks_of(self.node):
            penv = {**env, **rank_env(layout, rank, master_addr=self.cfg.master_addr,
                                      master_port=self.master_port, tf=tf)}
            if rank > 0:  # its own journal stream; rank 0 writes the main one
                penv[E.JOURNAL] = str(self.cfg.journal.with_name(f"rank{rank}{E.JOURNAL_SUFFIX}"))
            log = open(self.log_dir / f"70_driver_log_{rank}.txt", "a", encoding="utf-8")  # noqa: SIM115
            proc = subprocess.Popen(cmd, cwd=self.agent.wd, env=penv, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                    preexec_fn=_die_with_agent)
            rp = RankProc(rank, proc, log)
            assert proc.stdout is not None and proc.stderr is not None
            for pipe, is_err in ((proc.stdout, False), (proc.stderr, True)):
                reader = threading.Thread(target=self._pump, args=(rp, pipe.fileno(), is_err), daemon=True)
                reader.start()
                rp.readers.append(reader)
            self.procs.append(rp)
            pids.append(proc.pid)
        (self.cfg.run_dir / "script.json").write_text(json.dumps({"pid": pids[0], "pgid": pids[0], "pgids": pids}))
        ranks = layout.ranks_of(self.node)
        self.agent.say(f"node {self.node}: started {len(pids)} process(es), rank(s) {ranks.start}..{ranks.stop - 1} "
                       f"of {layout.process_count} ({layout.framework})")

    def _pump(self, rp: RankProc, fd: int, is_err: bool) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._line(rp, line, is_err)
        if pending:
            self._line(rp, pending, is_err)

    def _line(self, rp: RankProc, raw: bytes, is_err: bool) -> None:
        from .main import MAX_LINE_CHARS

        text = raw.decode("utf-8", "replace").rstrip("\r")
        if "\r" in text:
            text = next((part for part in reversed(text.split("\r")) if part), "")
        for start in range(0, max(len(text), 1), MAX_LINE_CHARS):
            self.agent.logs.add(log_stream(rp.rank), text[start:start + MAX_LINE_CHARS])
        if is_err:
            rp.tail.append(text)
        with rp.lock, contextlib.suppress(OSError, ValueError):
            rp.log.write(text + "\n")
            rp.log.flush()

    def _stop_all(self, sig_grace: float) -> None:
        from .main import kill_group

        live = [rp for rp in self.procs if rp.proc.poll() is None]
        for rp in live:
            kill_group(rp.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + sig_grace
        while time.monotonic() < deadline and any(rp.proc.poll() is None for rp in live):
            time.sleep(0.05)
        for rp in self.procs:
            kill_group(rp.proc.pid, signal.SIGKILL)
            rp.proc.wait()

    # -- the end -------------------------------------------------------------------------------------------
    def watch(self) -> Outcome:
        """Wait for this node's processes (and, on node 0, the other nodes) and decide the outcome."""
        from .main import KILL_GRACE

        local_done = False
        while True:
            if self.agent.cancel_event.is_set():
                self.agent.say(f"canceling: {self.agent.cancel_reason}")
                self._stop_all(KILL_GRACE)
                self._tell_stop(f"the run was canceled ({self.agent.cancel_reason})")
                return ("Canceled", None, None)
            failure = self._local_failure() or self._gang_failure()
            if failure is not None:
                self.agent.say(f"{failure.message}: stopping the other processes")
                self._stop_all(KILL_GRACE)
                self._tell_stop(failure.message, failure)
                return ("Failed", {**failure.fields, "message": failure.message, "details": failure.details},
                        failure.code)
            if not local_done and all(rp.proc.poll() is not None for rp in self.procs):
                local_done = True
                if self.follower is not None:
                    self.follower.send({"done": self.node})
            if local_done and (self.leader is None or self.leader.all_finished()):
                if self.leader is not None:
                    self.leader.close("the run completed")
                return ("Completed", None, 0)
            time.sleep(POLL)

    def _local_failure(self) -> Failure | None:
        for rp in self.procs:
            code = rp.proc.poll()
            if code is not None and code != 0:
                for reader in rp.readers:
                    reader.join(timeout=2)
                who = f"process rank {rp.rank} (node {self.node})"
                error = script_error(f"{who} {_exit_text(code)}", code, list(rp.tail), [str(self.agent.wd)],
                                     who=f"{who}: ")
                message, details = str(error.pop("message")), str(error.pop("details"))
                return Failure(message, details, code, error)
        return None

    def _gang_failure(self) -> Failure | None:
        if self.follower is not None and self.follower.stop.is_set():
            return Failure(f"node {self.node} stopped: {self.follower.stop_reason}")
        if self.leader is None:
            return None
        while True:
            try:
                node, message = self.leader.events.get_nowait()
            except queue.Empty:
                return None
            if "failed" in message:
                fields = message.get("fields")
                return Failure(str(message.get("message") or f"node {node} failed"), str(message.get("details") or ""),
                               message.get("code") if isinstance(message.get("code"), int) else None,
                               fields if isinstance(fields, dict) else {})
            if "lost" in message:
                return Failure(f"node {node} of the run was lost (its agent stopped answering)")

    def _tell_stop(self, reason: str, failure: Failure | None = None) -> None:
        if self.leader is not None:
            self.leader.close(reason)
        if self.follower is not None:
            if failure is not None and not self.follower.stop.is_set():
                self._reported = True
                self.follower.send({"failed": self.node, "message": failure.message, "details": failure.details,
                                    "code": failure.code, "fields": failure.fields})
            self.follower.close()

    def report_failure(self, message: str, details: str = "") -> None:
        """A node other than 0 that failed on its own (its environment, its snapshot) tells node 0."""
        if self.node == 0 or self.layout.node_count == 1 or self._reported:
            return
        self._reported = True
        if self.follower is None:
            self.follower = GangFollower(self.cfg.master_addr, self.cfg.gang_port, self.node)
        self.follower.report_failure(f"node {self.node}: {message}", details)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for rp in self.procs:
            for reader in rp.readers:
                reader.join(timeout=5)
            for pipe in (rp.proc.stdout, rp.proc.stderr):
                if pipe is not None:
                    pipe.close()
            with rp.lock:
                rp.log.close()
        if self.leader is not None:
            self.leader.close()
        if self.follower is not None:
            self.follower.close()

    def journals(self) -> list[str]:
        """The journal files of this node's ranks other than 0 (their processes carry them in AML_JOURNAL)."""
        main = self.cfg.journal
        return [str(main.with_name(f"rank{r}{E.JOURNAL_SUFFIX}")) for r in self.layout.ranks_of(self.node) if r > 0]

    def log_files(self) -> list[tuple[str, Path]]:
        """The per-process logs, as run files (``azureml-logs/70_driver_log_<R>.txt``)."""
        return [(f"{LOG_DIR}/{p.name}", p) for p in sorted(self.log_dir.glob("70_driver_log_*.txt"))]
