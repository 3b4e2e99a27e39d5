"""The real agent process against the fake service: statuses, logs, journal, outputs, failures, cancel."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.agent.fakeservice import FakeService
from tests.agent.helpers import pid_gone, start_agent, wait_for

OK_STATUSES = ["Preparing", "Starting", "Running", "Finalizing", "Completed"]

TRAIN = b"""
import json, os, sys
from jupyter_aml.runtime.journal import get_journal
j = get_journal(os.environ["AML_JOURNAL"])
for i in range(500):
    j.log_metric(os.environ["AML_RUN_ID"], "loss", 1.0 / (i + 1), i)
print("hello from", os.getcwd())
print("args", sys.argv[1:])
print("oops", file=sys.stderr)
print("L" * 40000)
os.makedirs("outputs/sub", exist_ok=True)
open("outputs/model.txt", "w").write("model")
open("outputs/sub/same.txt", "w").write("model")
os.makedirs("logs", exist_ok=True)
open("logs/train.log", "w").write("log")
keys = ["AML_RUN_ID", "AZUREML_RUN_ID", "AZUREML_ARM_PROJECT_NAME", "AML_JOURNAL", "MY_VAR", "AML_WORK_DIR",
        "PYTHONPATH", "AML_RUN_TOKEN"]
print("env", json.dumps({k: os.environ.get(k) for k in keys}))
"""


def _env_line(service: FakeService) -> dict:
    line = next(t for t in service.state.log_text("stdout") if t.startswith("env "))
    return json.loads(line[4:])


def test_completed_run_reports_everything(service: FakeService, tmp_path: Path) -> None:
    service.state.add_run("r1", files={"train.py": TRAIN}, script="train.py", arguments=["--lr", 0.1],
                          environment={"env_vars": {"MY_VAR": "42", "AML_RUN_ID": "spoof"}})
    agent = start_agent(service, "r1", tmp_path)
    assert agent.wait() == 0, agent.log
    st = service.state
    assert st.status_sequence("r1") == OK_STATUSES
    stdout = st.log_text("stdout")
    assert f"hello from {agent.run_dir / 'wd'}" in stdout
    assert "args ['--lr', '0.1']" in stdout
    assert st.log_text("stderr") == ["oops"]
    long = [t for t in stdout if t and set(t) == {"L"}]
    assert "".join(long) == "L" * 40000 and max(map(len, long)) <= 16_000
    assert any(t.startswith("status: Running") for t in st.log_text("agent"))
    env = _env_line(service)
    assert env["AML_RUN_ID"] == env["AZUREML_RUN_ID"] == "r1" and env["AZUREML_ARM_PROJECT_NAME"] == "exp"
    assert env["MY_VAR"] == "42" and env["AML_WORK_DIR"] is None and env["AML_RUN_TOKEN"] == st.token
    assert env["AML_JOURNAL"] == str(agent.run_dir / "journal" / "main.jsonl")
    assert str(Path(__file__).resolve().parents[2]) not in (env["PYTHONPATH"] or "").split(os.pathsep)
    recs = st.journal("r1")
    assert [r["seq"] for r in recs] == list(range(1, 501)) and st.duplicates_ignored == 0
    assert recs[0] == {**recs[0], "run_id": "r1", "k": "m", "n": "loss", "v": 1.0, "s": 0}
    paths = sorted(f["path"] for f in st.files)
    assert paths == ["logs/train.log", "outputs/model.txt", "outputs/sub/same.txt"]
    assert len(st.blob_puts) == 2  # two distinct contents
    assert st.heartbeats >= 1
    assert (agent.run_dir / "std_log.txt").read_text().count("hello from") == 1


def test_outputs_upload_only_missing_blobs(service: FakeService, tmp_path: Path) -> None:
    known = hashlib.sha256(b"model").hexdigest()
    service.state.blobs[known] = b"model"
    service.state.add_run("r2", files={"train.py": TRAIN}, script="train.py")
    agent = start_agent(service, "r2", tmp_path)
    assert agent.wait() == 0, agent.log
    st = service.state
    assert known not in st.blob_puts and st.blob_puts == [hashlib.sha256(b"log").hexdigest()]
    assert any(known in q for q in st.missing_queries)
    assert {f["path"] for f in st.files} == {"logs/train.log", "outputs/model.txt", "outputs/sub/same.txt"}


def test_nonzero_exit_is_failed_with_exit_code_and_stderr(service: FakeService, tmp_path: Path) -> None:
    script = b"import sys\nprint('line 1', file=sys.stderr)\nprint('fatal: bad', file=sys.stderr)\nsys.exit(3)\n"
    service.state.add_run("r3", files={"fail.py": script}, script="fail.py")
    agent = start_agent(service, "r3", tmp_path)
    assert agent.wait() == 0, agent.log
    st = service.state
    assert st.status_sequence("r3") == [*OK_STATUSES[:-1], "Failed"]
    final = st.statuses[-1][1]
    assert final["exit_code"] == 3
    assert final["error"]["message"] == "script exited with code 3"
    assert "fatal: bad" in final["error"]["details"] and "line 1" in final["error"]["details"]


def test_crashing_script_loses_no_record(service: FakeService, tmp_path: Path) -> None:
    script = b"""
import os, signal
from jupyter_aml.runtime.journal import get_journal
j = get_journal(os.environ["AML_JOURNAL"])
for i in range(3000):
    j.log_metric("r4", "acc", i, i)
os.kill(os.getpid(), signal.SIGKILL)
"""
    service.state.add_run("r4", files={"crash.py": script}, script="crash.py")
    agent = start_agent(service, "r4", tmp_path)
    assert agent.wait() == 0, agent.log
    final = service.state.statuses[-1][1]
    assert final["status"] == "Failed" and final["exit_code"] == -signal.SIGKILL
    assert "SIGKILL" in final["error"]["message"]
    assert [r["v"] for r in service.state.journal("r4")] == list(range(3000))


def test_journal_exactly_once_across_a_service_restart(service: FakeService, tmp_path: Path) -> None:
    script = b"""
import os, time
from jupyter_aml.runtime.journal import get_journal
j = get_journal(os.environ["AML_JOURNAL"])
for i in range(40):
    for k in range(500):
        j.log_metric("r5", "m", i * 500 + k, i * 500 + k)
    print("chunk", i, flush=True)
    time.sleep(0.1)
"""
    st = service.state
    st.add_run("r5", files={"train.py": script}, script="train.py")
    st.drop_journal_answers = 2  # processed but unanswered: the agent resends, the service ignores
    st.max_journal_records = 5000
    agent = start_agent(service, "r5", tmp_path)
    wait_for(lambda: len(st.journal("r5")) > 2000, what="first records")
    service.stop()  # like kill -9
    time.sleep(2)
    service.start()
    assert agent.wait() == 0, agent.log
    values = [r["v"] for r in st.journal("r5")]
    assert values == list(range(20_000))  # every record, once, in order
    assert st.duplicates_ignored > 0
    assert st.status_sequence("r5")[-1] == "Completed"
    chunks = [t for t in st.log_text("stdout") if t.startswith("chunk")]
    assert chunks == [f"chunk {i}" for i in range(40)]


def test_sigterm_cancels_and_kills_the_grandchild(service: FakeService, tmp_path: Path) -> None:
    script = b"""
import os, subprocess, sys, time
from jupyter_aml.runtime.journal import get_journal
j = get_journal(os.environ["AML_JOURNAL"])
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
open("grandchild.pid", "w").write(str(child.pid))
for i in range(100):
    j.log_metric("r6", "x", i)
print("ready", flush=True)
time.sleep(300)
"""
    service.state.add_run("r6", files={"train.py": script}, script="train.py")
    agent = start_agent(service, "r6", tmp_path)
    pidfile = agent.run_dir / "wd" / "grandchild.pid"
    wait_for(lambda: "ready" in service.state.log_text("stdout"), what="script ready")
    grandchild = int(pidfile.read_text())
    script_pid = agent.script_info()["pid"]
    t0 = time.monotonic()
    os.kill(agent.proc.pid, signal.SIGTERM)
    assert agent.wait(30) == 0, agent.log
    assert time.monotonic() - t0 < 10
    assert pid_gone(grandchild) and pid_gone(script_pid)
    assert service.state.status_sequence("r6")[-1] == "Canceled"
    assert len(service.state.journal("r6")) == 100


def test_heartbeat_cancel_stops_the_script(service: FakeService, tmp_path: Path) -> None:
    script = b"import time\nprint('ready', flush=True)\ntime.sleep(300)\n"
    run = service.state.add_run("r7", files={"train.py": script}, script="train.py")
    agent = start_agent(service, "r7", tmp_path)
    wait_for(lambda: "ready" in service.state.log_text("stdout"), what="script ready")
    run.status = "Canceled"  # the user canceled on the service side
    assert agent.wait(30) == 0, agent.log
    assert pid_gone(agent.script_info()["pid"])
    assert "canceling: the service reports the run as Canceled" in service.state.log_text("agent")


def test_missing_script_fails(service: FakeService, tmp_path: Path) -> None:
    service.state.add_run("r8", files={"other.py": b""}, script="train.py")
    agent = start_agent(service, "r8", tmp_path)
    assert agent.wait() == 0, agent.log
    final = service.state.statuses[-1][1]
    assert final["status"] == "Failed" and final["exit_code"] == 2
    assert "train.py" in final["error"]["details"]


def test_unreachable_service_gives_up_with_exit_3(tmp_path: Path) -> None:
    svc = FakeService()
    svc.start()
    svc.stop()  # nobody listens on svc.port any more
    agent = start_agent(svc, "r9", tmp_path, extra_env={"AML_AGENT_CONNECT_TIMEOUT": "1",
                                                       "AML_AGENT_DRAIN_TIMEOUT": "1"})
    assert agent.wait(60) == 3, agent.log


@pytest.mark.skipif(importlib.util.find_spec("jupyter_aml.sdk.run") is None, reason="SDK not written yet")
def test_azureml_v1_script_runs_unchanged(service: FakeService, tmp_path: Path) -> None:
    script = b"""
import azureml.core
from azureml.core import Run
from azureml.core.run import Run as Run2
assert Run is Run2
run = Run.get_context()
print("shim", azureml.core.__version__, type(run).__module__)
run.log("acc", 0.9)
"""
    service.state.add_run("r10", files={"train.py": script}, script="train.py")
    agent = start_agent(service, "r10", tmp_path)
    assert agent.wait() == 0, agent.log
    stdout = "\n".join(service.state.log_text("stdout"))
    assert re.search(r"shim 1\.61\.0\+jupyter\.aml\.\S+ jupyter_aml\.sdk\.run", stdout)
    recs = service.state.journal("r10")
    assert [(r["n"], r["v"]) for r in recs] == [("acc", 0.9)]
    assert service.state.status_sequence("r10")[-1] == "Completed"
