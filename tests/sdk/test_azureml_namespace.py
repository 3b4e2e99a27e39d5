"""``import azureml.core`` in every interpreter where jupyter-aml is installed, and never over a real azureml-core.

Real installs: jupyter-aml's wheel, built from this tree, goes into fresh venvs (uv), next to hand-built wheels
shaped like Azure's ``azureml-core`` and ``azureml-mlflow`` (an extend_path ``azureml/__init__.py`` and their
package), installed in both orders; each check is a plain ``python -c`` in that venv.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UV = shutil.which("uv")
SUBMODULES = ["azureml.core", "azureml.core.run", "azureml.core.runconfig", "azureml.core.conda_dependencies",
              "azureml.core.environment", "azureml.core.model", "azureml.core.webservice", "azureml.core.compute",
              "azureml.core.compute_target", "azureml.core.authentication", "azureml.core.workspace",
              "azureml.core.experiment", "azureml.exceptions", "azureml.train.hyperdrive", "azureml.widgets"]
# Azure's own azureml/__init__.py is this one line (a pkgutil namespace)
AZURE_NAMESPACE_INIT = "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"

pytestmark = pytest.mark.skipif(UV is None, reason="uv makes the venvs (./dev installs it)")


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def fake_wheel(folder: Path, dist: str, version: str, files: dict[str, str]) -> Path:
    """A minimal, valid wheel of ``files`` (what a third-party azureml-* distribution looks like to pip/uv)."""
    info = f"{dist.replace('-', '_')}-{version}.dist-info"
    contents = {name: text.encode() for name, text in files.items()}
    contents[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n".encode()
    contents[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = [_record_line(n, d) for n, d in contents.items()] + [f"{info}/RECORD,,"]
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{dist.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    # the release wheel's Python contents; its build hooks (the JS bundle, _version.py) do not matter here
    env = {**os.environ, "HATCH_BUILD_NO_HOOKS": "true"}
    done = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (ours,) = out.glob("jupyter_aml-*.whl")
    with zipfile.ZipFile(ours) as zf:
        names = set(zf.namelist())
    assert "azureml/__init__.py" in names and "jupyter_aml/_shim/azureml/core/__init__.py" in names
    assert not any(n.startswith("azureml/core") for n in names)  # never a file a real azureml-core owns
    core = fake_wheel(out, "azureml-core", "1.99.0", {
        "azureml/__init__.py": AZURE_NAMESPACE_INIT,
        "azureml/core/__init__.py": "VERSION = __version__ = '1.99.0'\nclass Workspace: pass\n",
    })
    mlflow = fake_wheel(out, "azureml-mlflow", "1.99.0", {
        "azureml/__init__.py": AZURE_NAMESPACE_INIT,
        "azureml/mlflow/__init__.py": "X = 'real azureml.mlflow'\n",
    })
    return {"ours": ours, "core": core, "mlflow": mlflow}


class Venv:
    def __init__(self, path: Path) -> None:
        subprocess.run([UV, "venv", "-q", str(path), "--python", sys.executable], check=True, timeout=120)
        self.python = str(path / "bin" / "python")

    def install(self, *wheels: Path | str) -> None:
        done = subprocess.run([UV, "pip", "install", "-q", "--offline", "--no-deps", "--python", self.python,
                               *map(str, wheels)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr

    def uninstall(self, dist: str) -> None:
        done = subprocess.run([UV, "pip", "uninstall", "-q", "--python", self.python, dist], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    def run(self, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        return subprocess.run([self.python, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=120)

    def ok(self, code: str, cwd: Path) -> str:
        done = self.run(code, cwd)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


IMPORT_ALL = f"import importlib\nfor m in {SUBMODULES!r}: importlib.import_module(m)\n"


def test_the_wheel_gives_every_interpreter_the_v1_names(wheels: dict[str, Path], tmp_path: Path) -> None:
    venv = Venv(tmp_path / "venv")
    venv.install(wheels["ours"])
    out = venv.ok(IMPORT_ALL + """
import azureml.core
print(azureml.core.VERSION)
print(azureml.core.__file__)
from azureml.core import Run, Workspace
from azureml.core.run import Run as Run2
print(Run is Run2, Workspace.__module__)
""", tmp_path)
    version, where, same = out.splitlines()
    assert version.startswith("1.61.0+jupyter.aml.")
    assert "site-packages/jupyter_aml/_shim/azureml/core" in where
    assert same == "True jupyter_aml.sdk.workspace"
    # an unknown name says it is the shim's; a missing module says what is missing
    failed = venv.run("from azureml.core import NoSuchThing", tmp_path)
    assert failed.returncode == 1 and "cannot import name 'NoSuchThing'" in failed.stderr
    assert "jupyter_aml/_shim" in failed.stderr
    failed = venv.run("import azureml.core as c; c.NoSuchThing", tmp_path)
    assert "the jupyter-aml azureml shim does not provide it" in failed.stderr


def test_a_real_azureml_core_wins_whole_in_either_install_order(wheels: dict[str, Path], tmp_path: Path) -> None:
    probe = """
import azureml.core
print(azureml.core.VERSION)
try:
    import azureml.train.hyperdrive
except ModuleNotFoundError:
    print("no shim mixed in")
"""
    for order in (["core", "ours"], ["ours", "core"]):
        venv = Venv(tmp_path / "-".join(order))
        for dist in order:
            venv.install(wheels[dist])
        assert venv.ok(probe, tmp_path).splitlines() == ["1.99.0", "no shim mixed in"], order
        # uninstalling the real SDK removes the azureml/__init__.py both wheels list: the shim comes back by itself
        # (the fallback finder jupyter_aml_azureml.pth installs), no reinstall needed
        venv.uninstall("azureml-core")
        assert venv.ok("import azureml.core; print(azureml.core.VERSION)", tmp_path).startswith("1.61.0+")


BOTH = IMPORT_ALL + "import azureml.mlflow, azureml.core; print(azureml.mlflow.X); print(azureml.core.VERSION)"


@pytest.mark.parametrize("order", [["mlflow", "ours"], ["ours", "mlflow"], ["together"]])
def test_other_azureml_packages_stay_importable_next_to_the_shim(wheels: dict[str, Path], tmp_path: Path,
                                                                 order: list[str]) -> None:
    """Whichever azureml/__init__.py the installer leaves (Azure's one-liner, when azureml-mlflow comes last or
    the two are installed at once, in parallel), both packages import; uninstalling azureml-mlflow (which
    removes the shared file) leaves the shim working."""
    venv = Venv(tmp_path / "venv")
    if order == ["together"]:
        venv.install(wheels["mlflow"], wheels["ours"])
    else:
        for dist in order:
            venv.install(wheels[dist])
    first, second = venv.ok(BOTH, tmp_path).splitlines()
    assert first == "real azureml.mlflow"
    assert second.startswith("1.61.0+jupyter.aml.")
    venv.uninstall("azureml-mlflow")
    assert venv.ok(IMPORT_ALL + "import azureml.core; print(azureml.core.VERSION)", tmp_path).startswith("1.61.0+")
    assert venv.run("import azureml.mlflow", tmp_path).returncode == 1


def test_a_real_azureml_core_on_pythonpath_wins_too(tmp_path: Path) -> None:
    """This environment (the editable install): a plain interpreter, then one with Azure's SDK on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    plain = subprocess.run([sys.executable, "-c", IMPORT_ALL + "import azureml.core; print(azureml.core.VERSION)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith("1.61.0+jupyter.aml.")
    real = tmp_path / "real" / "azureml" / "core"
    real.mkdir(parents=True)
    (real.parent / "__init__.py").write_text(AZURE_NAMESPACE_INIT)
    (real / "__init__.py").write_text("VERSION = '1.99.0'\n")
    env["PYTHONPATH"] = str(tmp_path / "real")
    done = subprocess.run([sys.executable, "-c", "import azureml.core; print(azureml.core.VERSION)"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.99.0"
