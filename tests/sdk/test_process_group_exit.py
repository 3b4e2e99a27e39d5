"""A distributed run's rank that leaves its gloo group open gets it closed at exit (sdk/process_group.py).

Real torch in a real interpreter: a checker registered before ``Run.get_context()`` runs after the SDK's exit
hook (atexit is last in, first out) and prints whether the group is still open.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import atexit, sys
import torch.distributed as dist
atexit.register(lambda: print("open at exit:", dist.is_initialized(), flush=True))
dist.init_process_group("gloo", init_method=f"file://{sys.argv[1]}", rank=0, world_size=1)
from azureml.core import Run
Run.get_context()
print("backend", dist.get_backend(), flush=True)
"""


def _run(tmp_path: Path, world_size: str) -> str:
    env = {**os.environ, "AML_RUN_ID": "r1", "AML_SERVICE_URL": "http://127.0.0.1:9/aml/api/v1",
           "AML_WORKSPACE": "w", "AML_EXPERIMENT": "e", "AML_RUN_TOKEN": "t", "WORLD_SIZE": world_size}
    store = tmp_path / f"store-{world_size}"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(store)], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout


def test_a_ranks_open_gloo_group_is_closed_before_the_interpreter_ends(tmp_path):
    out = _run(tmp_path, "2")
    assert "backend gloo" in out and "open at exit: False" in out


def test_a_single_process_run_is_left_alone(tmp_path):
    assert "open at exit: True" in _run(tmp_path, "1")
