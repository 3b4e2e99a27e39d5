"""runtime/, agent/ and _shim/ run inside user environments: they may import only the standard library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jupyter_aml.envbuild.venv import SHIM_DIR, ensure_link_dir

CHECK = """
import importlib, pkgutil, sys
import jupyter_aml.runtime
for info in pkgutil.iter_modules(jupyter_aml.runtime.__path__):  # every module of runtime/
    importlib.import_module("jupyter_aml.runtime." + info.name)
import jupyter_aml.agent.main, jupyter_aml.envbuild.venv
import azureml, azureml.core, azureml.core.run
foreign = sorted({name.split(".")[0] for name in sys.modules}
                 - set(sys.stdlib_module_names) - {"jupyter_aml", "azureml", "__main__"})
print(",".join(foreign))
"""


def test_in_run_modules_import_only_the_stdlib(tmp_path: Path) -> None:
    assert len(list((Path(__file__).parents[2] / "jupyter_aml" / "runtime").glob("*.py"))) >= 8
    link = ensure_link_dir(tmp_path / "link")  # jupyter_aml alone, without the service's site-packages
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(SHIM_DIR), str(link)])}
    out = subprocess.run([sys.executable, "-S", "-c", CHECK], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
