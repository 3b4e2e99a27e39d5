"""The azureml import shim: v1 scripts get jupyter-aml's SDK classes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jupyter_aml.envbuild.venv import SHIM_DIR
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import start_agent

STAND_IN = """
import sys, types
sdk = types.ModuleType("jupyter_aml.sdk")
for name in ("Run", "Workspace", "Experiment", "ScriptRunConfig", "Environment"):
    setattr(sdk, name, type(name, (), {}))
sys.modules["jupyter_aml.sdk"] = sdk
import azureml, azureml.core
assert azureml.core.VERSION.startswith("1.61.0+jupyter.aml.")
assert "Run" not in vars(azureml.core)  # lazy: nothing resolved before first use
from azureml.core import Run, Workspace, Experiment, ScriptRunConfig, Environment
from azureml.core.run import Run as Run2
from azureml.core.workspace import Workspace as W2
from azureml.core.script_run_config import ScriptRunConfig as S2
assert Run is sdk.Run is Run2 and Workspace is W2 is sdk.Workspace and S2 is sdk.ScriptRunConfig
try:
    from azureml.core import Nope
except ImportError:
    pass
else:
    raise AssertionError("unknown names must fail")
import azureml.extra_portion
print("ok", azureml.extra_portion.X)
"""


def test_shim_re_exports_the_sdk_lazily(tmp_path: Path) -> None:
    # another azureml.* distribution installed next to the shim stays importable
    portion = tmp_path / "site" / "azureml" / "extra_portion"
    portion.mkdir(parents=True)
    (portion / "__init__.py").write_text("X = 42\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SHIM_DIR), str(tmp_path / "site")])}
    out = subprocess.run([sys.executable, "-c", STAND_IN], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok 42"


def test_a_real_azureml_core_wins_over_the_shim(service: FakeService, tmp_path: Path) -> None:
    real = tmp_path / "real" / "azureml" / "core"
    real.mkdir(parents=True)
    (real.parent / "__init__.py").write_text("")
    (real / "__init__.py").write_text("__version__ = '1.99.0'\n")
    script = b"import azureml.core\nprint('version', azureml.core.__version__)\n"
    spec = {"env_vars": {"PYTHONPATH": str(tmp_path / "real")}}
    service.state.add_run("s1", files={"s.py": script}, script="s.py", environment=spec)
    agent = start_agent(service, "s1", tmp_path)
    assert agent.wait() == 0, agent.log
    assert "version 1.99.0" in service.state.log_text("stdout")
    assert not any("shim" in t for t in service.state.log_text("agent"))


def test_the_shim_is_used_when_there_is_no_azureml(service: FakeService, tmp_path: Path) -> None:
    script = b"import azureml.core\nprint('version', azureml.core.__version__)\n"
    service.state.add_run("s2", files={"s.py": script}, script="s.py")
    agent = start_agent(service, "s2", tmp_path)
    assert agent.wait() == 0, agent.log
    assert any(line.startswith("version 1.61.0+jupyter.aml.") for line in service.state.log_text("stdout"))
