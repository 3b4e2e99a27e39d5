"""Reliability against the real service process: kill -9, crashes, silence, restarts, concurrency, cancel."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

from jupyter_aml import Experiment, ScriptRunConfig
from tests.e2e.conftest import wait_status, write_script

LOGGER = """
import os, sys, time
from jupyter_aml import Run
run = Run.get_context()
n = int(sys.argv[1])
for i in range(n):
    run.log("x", float(i), step=i)
    if i % 1000 == 0:
        time.sleep(float(sys.argv[2]))
print("logged", n, flush=True)
if len(sys.argv) > 3:
    mode = sys.argv[3]
    if mode == "raise":
        raise RuntimeError("boom after logging")
    if mode == "exit":
        os._exit(3)
    if mode == "sigkill":
        os.kill(os.getpid(), 9)
"""


def points(service, run) -> int:
    items = service.client().get(f"workspaces/e2e/runs/{run.id}/metrics")["items"]
    return sum(i["count"] for i in items if i["name"] == "x")


def agent_pids(run_id: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if (
                proc.name.isdigit()
                and f"AML_RUN_ID={run_id}".encode() in (proc / "environ").read_bytes()
                and b"jupyter_aml.agent" in (proc / "cmdline").read_bytes()
            ):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_kill9_of_the_service_loses_no_point(service, tmp_path):
    src = write_script(tmp_path / "src", LOGGER)
    run = Experiment(service.workspace(), "rel").submit(ScriptRunConfig(src, "script.py", ["60000", "0.05"]))
    wait_status(run, {"Running"})
    deadline = time.monotonic() + 30
    while points(service, run) == 0:  # some points acknowledged before the crash
        assert time.monotonic() < deadline
        time.sleep(0.1)
    acknowledged = points(service, run)
    service.kill9()
    time.sleep(1.5)
    service.start()
    assert points(service, run) >= acknowledged  # every acknowledged point survived the crash
    run.experiment.workspace._client = service.client()
    assert wait_status(run, {"Completed", "Failed"}) == "Completed"
    assert points(service, run) == 60000  # and the rest arrived, exactly once
    history = service.client().get(f"workspaces/e2e/runs/{run.id}/metrics/x")
    assert history["steps"] == [float(i) for i in range(60000)]


def test_everything_logged_before_a_crash_arrives(service, tmp_path):
    src = write_script(tmp_path / "src", LOGGER)
    exp = Experiment(service.workspace(), "crash")
    runs = {
        mode: exp.submit(ScriptRunConfig(src, "script.py", ["5000", "0", mode]))
        for mode in ("raise", "exit", "sigkill")
    }
    for mode, run in runs.items():
        assert wait_status(run, {"Completed", "Failed", "Canceled"}) == "Failed", mode
        assert points(service, run) == 5000, mode
    details = runs["exit"]._refresh()
    assert details["exit_code"] == 3 and "code 3" in details["error"]["message"]
    assert "boom after logging" in (runs["raise"]._refresh()["error"].get("details") or "")


def test_silent_run_goes_not_responding_then_failed(service, tmp_path):
    src = write_script(tmp_path / "src", "import time\nprint('start', flush=True)\ntime.sleep(120)\n")
    run = Experiment(service.workspace(), "silent").submit(ScriptRunConfig(src, "script.py"))
    wait_status(run, {"Running"})
    pids = agent_pids(run.id)
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        assert wait_status(run, {"NotResponding", "Failed"}, timeout=30) == "NotResponding"
        assert wait_status(run, {"Failed"}, timeout=30) == "Failed"
        assert "heartbeats" in run._refresh()["error"]["message"]
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def test_restart_fails_runs_nothing_runs_and_keeps_live_ones(service, tmp_path):
    src = write_script(tmp_path / "src", "import sys, time\ntime.sleep(float(sys.argv[1]))\nprint('done')\n")
    exp = Experiment(service.workspace(), "restart")
    orphan = exp.submit(ScriptRunConfig(src, "script.py", ["60"]))
    survivor = exp.submit(ScriptRunConfig(src, "script.py", ["6"]))
    wait_status(orphan, {"Running"})
    wait_status(survivor, {"Running"})
    service.kill9()
    for pid in agent_pids(orphan.id):  # the orphan's agent dies with the "machine"
        with contextlib.suppress(ProcessLookupError):  # under bubblewrap bwrap and the agent share one group
            os.killpg(os.getpgid(pid), signal.SIGKILL)
    service.start()
    client = service.client()
    orphan.experiment.workspace._client = client
    assert orphan.get_status() == "Failed"
    assert "nothing runs this run" in orphan._refresh()["error"]["message"]
    assert survivor.get_status() in {"Running", "Finalizing", "Completed"}
    assert wait_status(survivor, {"Completed", "Failed"}) == "Completed"


def test_concurrent_writers(service, tmp_path):
    src = write_script(tmp_path / "src", LOGGER)
    ws = service.workspace()
    submitted = [Experiment(ws, "many").submit(ScriptRunConfig(src, "script.py", ["20000", "0"])) for _ in range(4)]
    interactive = []

    def notebook(i: int) -> None:
        run = Experiment(ws, "many").start_logging(display_name=f"nb{i}")
        for step in range(3000):
            run.log("x", step, step=step)
        run.complete()
        interactive.append(run)

    threads = [threading.Thread(target=notebook, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for run in submitted:
        assert wait_status(run, {"Completed", "Failed"}) == "Completed"
        assert points(service, run) == 20000
    assert len(interactive) == 3 and all(points(service, r) == 3000 for r in interactive)


def test_cancel_stops_the_whole_process_tree(service, tmp_path):
    body = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        "open('grandchild.pid', 'w').write(str(child.pid))\n"
        "print('pid', child.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    src = write_script(tmp_path / "src", body)
    run = Experiment(service.workspace(), "cancel").submit(ScriptRunConfig(src, "script.py"))
    wait_status(run, {"Running"})
    deadline = time.monotonic() + 30
    pid = None
    while pid is None and time.monotonic() < deadline:
        lines = service.client().get(f"workspaces/e2e/runs/{run.id}/logs")["items"]
        pid = next((int(x["text"].split()[1]) for x in lines if x["text"].startswith("pid ")), None)
        time.sleep(0.2)
    assert pid is not None
    assert len(run_pids(run.id)) >= 3  # agent, script, grandchild (the printed pid is the sandbox's own)
    run.cancel()
    assert run.get_status() == "Canceled"
    deadline = time.monotonic() + 20
    while run_pids(run.id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not run_pids(run.id), "the grandchild survived cancel"
    assert not agent_pids(run.id)


def run_pids(run_id: str) -> list[int]:
    """Host pids of every live process carrying the run's id: under the bubblewrap runner a script sees only
    its own pid namespace, so the pid it prints is not the host's."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            alive = proc.name.isdigit() and (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
            if alive and f"AML_RUN_ID={run_id}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found
