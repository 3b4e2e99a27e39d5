"""Two real agents of one 2-node run meeting over agent/gang.py, against the fake service (no Dask): the nodes
gather before any process starts, and a node that cannot get ready fails the run with its reason at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from jupyter_aml.agent import distributed as D
from jupyter_aml.compute.local import agent_process_env
from jupyter_aml.runtime import env as E
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import make_job

SCRIPT = b"import os\nprint('rank', os.environ['RANK'], 'of', os.environ['WORLD_SIZE'], flush=True)\n"
TWO_NODES = {"framework": "PyTorch", "node_count": 2, "process_count": 4}


def _start(service: FakeService, run_id: str, root: Path, node: int, ports: list[int]) -> subprocess.Popen[bytes]:
    job = make_job(service, run_id, root)
    folder = job.work_root / run_id / (f"node-{node}" if node else "")
    folder.mkdir(parents=True, exist_ok=True)
    env = agent_process_env(job, {"AML_HEARTBEAT_INTERVAL": "0.5"})
    env.update({D.NODE_RANK: str(node), D.MASTER_ADDR: "127.0.0.1", D.MASTER_PORT: str(ports[0]),
                D.GANG_PORT: str(ports[1]), D.NODE_HOST: "127.0.0.1", D.GANG_TIMEOUT: "60"})
    if node:
        env[E.JOURNAL] = str(folder / "journal" / "main.jsonl")
    with open(folder / "agent.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "jupyter_aml.agent"], env=env, cwd=folder, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def test_two_nodes_gather_and_every_rank_runs_once(service: FakeService, tmp_path: Path) -> None:
    service.state.add_run("r1", files={"t.py": SCRIPT}, script="t.py", distributed=TWO_NODES)
    ports = D.free_ports(2)
    leader = _start(service, "r1", tmp_path, 0, ports)
    time.sleep(1.0)  # the follower may come late: node 0 waits for it
    follower = _start(service, "r1", tmp_path, 1, ports)
    assert leader.wait(120) == 0 and follower.wait(60) == 0
    assert service.state.status_sequence("r1")[-1] == "Completed"  # reported once, by node 0
    for rank in range(4):
        assert service.state.log_text(f"70_driver_log_{rank}") == [f"rank {rank} of 4"]
    run_dir = tmp_path / "work" / "r1"
    assert (run_dir / "azureml-logs" / "70_driver_log_1.txt").exists()  # ranks 0 and 1 on node 0
    assert (run_dir / "node-1" / "azureml-logs" / "70_driver_log_3.txt").exists()  # ranks 2 and 3 on node 1


def test_a_node_that_cannot_get_ready_fails_the_run_with_its_reason(service: FakeService, tmp_path: Path) -> None:
    service.state.add_run("r2", files={"t.py": SCRIPT}, script="t.py", distributed=TWO_NODES)
    broken = tmp_path / "work" / "r2" / "node-1" / "snapshot.zip"
    (broken / "in-the-way").mkdir(parents=True)  # node 1 cannot download the snapshot
    ports = D.free_ports(2)
    started = time.monotonic()
    leader = _start(service, "r2", tmp_path, 0, ports)
    follower = _start(service, "r2", tmp_path, 1, ports)
    assert follower.wait(60) == 1 and leader.wait(60) == 0
    assert time.monotonic() - started < 40  # not the 60 s gang timeout
    final = [body for rid, body in service.state.statuses if rid == "r2"][-1]
    assert final["status"] == "Failed"
    assert "the run's nodes did not come together: node 1: agent error" in final["error"]["message"], final
    assert not [line for line in service.state.log_text() if line.startswith("rank ")]  # no process started
