"""A lost agent loses no journal point, and a hung agent's script does not outlive its Failed run.

Real service, real agent, real script; the agent is stopped (SIGSTOP) and killed (SIGKILL) from outside.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

from jupyter_aml import Experiment, ScriptRunConfig
from tests.e2e.conftest import wait_status, write_script
from tests.e2e.test_reliability import agent_pids

# The script freezes its own agent (so nothing is shipped), logs, then says so beside the journal.
UNSHIPPED = """
import os, signal, sys, time
from pathlib import Path
from jupyter_aml import Run
run = Run.get_context()
run.log("warmup", 1.0)
time.sleep(1.0)
os.kill(os.getppid(), signal.SIGSTOP)
n = int(sys.argv[1])
for i in range(n):
    run.log("x", float(i), step=i)
run.log_list("tail", [1, 2, 3])
Path(os.environ["AML_JOURNAL"]).with_name("logged.marker").write_text(str(n))
time.sleep(300)
"""

STEADY = """
import time
from jupyter_aml import Run
run = Run.get_context()
for i in range(200000):
    run.log("x", float(i), step=i)
    if i % 200 == 0:
        time.sleep(0.02)
"""

HEARTBEAT = """
import os, time
from pathlib import Path
from jupyter_aml import Run
run = Run.get_context()
beat = Path(os.environ["AML_JOURNAL"]).with_name("beat")
i = 0
while True:
    beat.write_text(str(time.time()))
    run.log("beat", float(i))
    i += 1
    time.sleep(0.2)
"""


def _journal_of(run_id: str) -> Path:
    """The run's journal as its agent was told (read from the agent's own environment)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for pid in agent_pids(run_id):
            with contextlib.suppress(OSError):
                for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                    if item.startswith(b"AML_JOURNAL="):
                        path = Path(item.split(b"=", 1)[1].decode())
                        if path.parent.is_dir():
                            return path
        time.sleep(0.1)
    raise AssertionError(f"no agent of run {run_id} with a journal folder")


def _run_processes(run_id: str) -> list[int]:
    """Every live process of the run (agent, sandbox, script, its children): they carry its id."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and f"AML_RUN_ID={run_id}".encode() in (proc / "environ").read_bytes():
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(proc.name))
    return found


def _journal_records(journal: Path, name: str) -> int:
    count = 0
    for file in journal.parent.glob("*.jsonl"):
        for line in file.read_bytes().splitlines():
            with contextlib.suppress(ValueError):
                if json.loads(line).get("n") == name:
                    count += 1
    return count


def _count(service, run, name: str) -> int:
    items = service.client().get(f"workspaces/e2e/runs/{run.id}/metrics")["items"]
    return sum(i["count"] for i in items if i["name"] == name)


def _kill(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def test_points_the_agent_never_shipped_are_recovered_after_its_kill9(service, tmp_path):
    src = write_script(tmp_path / "src", UNSHIPPED)
    run = Experiment(service.workspace(), "orphan").submit(ScriptRunConfig(src, "script.py", ["5000"]))
    wait_status(run, {"Running"})
    journal = _journal_of(run.id)
    marker = journal.with_name("logged.marker")
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, "the script did not log"
        time.sleep(0.1)
    assert _count(service, run, "x") == 0  # the frozen agent shipped none of them
    _kill(agent_pids(run.id), signal.SIGKILL)
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=60) == "Failed"
    assert _count(service, run, "x") == 5000 and _count(service, run, "tail") == 1
    history = service.client().get(f"workspaces/e2e/runs/{run.id}/metrics/x")
    assert history["steps"] == [float(i) for i in range(5000)]
    message = run._refresh()["error"]["message"]
    assert "without reporting a final status" in message and "recovered" in message


def test_kill9_of_the_agent_mid_run_loses_no_point_that_reached_the_journal(service, tmp_path):
    src = write_script(tmp_path / "src", STEADY)
    run = Experiment(service.workspace(), "orphan").submit(ScriptRunConfig(src, "script.py"))
    wait_status(run, {"Running"})
    journal = _journal_of(run.id)
    deadline = time.monotonic() + 60
    while _count(service, run, "x") < 2000:  # shipping is live: some points are in, more are on their way
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _kill(agent_pids(run.id), signal.SIGKILL)
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=60) == "Failed"
    deadline = time.monotonic() + 10
    while _run_processes(run.id):  # the script dies with its agent
        assert time.monotonic() < deadline
        time.sleep(0.1)
    on_disk = _journal_records(journal, "x")
    assert on_disk > 2000
    assert _count(service, run, "x") == on_disk  # every point that reached the journal, exactly once
    history = service.client().get(f"workspaces/e2e/runs/{run.id}/metrics/x")
    assert history["steps"] == [float(i) for i in range(on_disk)]


def test_a_hung_agents_script_is_stopped_when_the_run_is_marked_failed(service, tmp_path):
    src = write_script(tmp_path / "src", HEARTBEAT)
    run = Experiment(service.workspace(), "hung").submit(ScriptRunConfig(src, "script.py"))
    wait_status(run, {"Running"})
    journal = _journal_of(run.id)
    beat = journal.with_name("beat")
    deadline = time.monotonic() + 30
    while not beat.exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    agents = agent_pids(run.id)
    _kill(agents, signal.SIGSTOP)
    try:
        assert wait_status(run, {"Failed", "Completed", "Canceled"}, timeout=60) == "Failed"
        failed_at = time.monotonic()
        while _run_processes(run.id):
            assert time.monotonic() - failed_at < 10, f"still running after Failed: {_run_processes(run.id)}"
            time.sleep(0.2)
        last = beat.read_text()
        time.sleep(1.0)
        assert beat.read_text() == last  # the script no longer beats
        assert run.get_status() == "Failed"  # and the run keeps its true status
        assert _count(service, run, "beat") == _journal_records(journal, "beat")  # logged while hung: kept
    finally:
        _kill(agents, signal.SIGCONT)


def test_a_restarted_service_recovers_the_journal_of_a_run_nothing_runs_any_more(service, tmp_path):
    src = write_script(tmp_path / "src", UNSHIPPED)
    run = Experiment(service.workspace(), "orphan").submit(ScriptRunConfig(src, "script.py", ["3000"]))
    wait_status(run, {"Running"})
    marker = _journal_of(run.id).with_name("logged.marker")
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, "the script did not log"
        time.sleep(0.1)
    service.kill9()  # the service dies, then the agent with its "machine"
    _kill(agent_pids(run.id), signal.SIGKILL)
    service.start()
    run.experiment.workspace._client = service.client()
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=60) == "Failed"
    assert _count(service, run, "x") == 3000
    assert "recovered" in run._refresh()["error"]["message"]
