from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_script_outside_any_run_gets_an_offline_run():
    script = (
        "from jupyter_aml import Run\n"
        "run = Run.get_context()\n"
        "run.log('acc', 0.9)\nrun.log('acc', 0.95)\nrun.log_row('curve', x=1)\nrun.tag('k', 'v')\n"
        "child = run.child_run('c'); child.log('x', 1); child.complete()\n"
        "print(type(run).__name__, run.get_metrics())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AML_", "AZUREML_", "JUPYTER_AML_URL"))}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    assert "[offline run] log acc=0.9" in out
    assert "OfflineRun {'acc': [0.9, 0.95], 'curve': {'x': [1]}}" in out


def test_importing_the_sdk_pulls_in_no_server_stack():
    code = (
        "import sys, jupyter_aml\nfrom jupyter_aml import Run, Workspace\n"
        "heavy = [m for m in ('tornado', 'sqlalchemy', 'pydantic', 'jupyter_server', 'numpy') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    ).stdout
    assert out.strip() == "[]"
