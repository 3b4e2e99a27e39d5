"""The replica server and what scoring scripts import run in any environment: standard library only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jupyter_aml.envbuild.venv import SHIM_DIR, ensure_link_dir

CHECK = """
import sys
import jupyter_aml.serving.replica, jupyter_aml.sdk.model, jupyter_aml.sdk.webservice
import azureml.core.model, azureml.core.webservice
from azureml.core.model import Model
assert Model.get_model_path("digits") == "/models/digits/3/model.pkl"
foreign = sorted({name.split(".")[0] for name in sys.modules}
                 - set(sys.stdlib_module_names) - {"jupyter_aml", "azureml", "__main__"})
print(",".join(foreign))
"""


def test_scoring_side_modules_import_only_the_stdlib(tmp_path: Path) -> None:
    link = ensure_link_dir(tmp_path / "link")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(SHIM_DIR), str(link)]),
           "AML_MODELS": '{"digits": {"version": 3, "path": "model.pkl", "dir": "/models/digits/3"}}'}
    out = subprocess.run([sys.executable, "-S", "-c", CHECK], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
