"""The shim modules resolve their names through the one lazy resolver (``azureml.core._lazy.resolve``), so an
unknown name says the same thing everywhere: that the jupyter-aml shim does not provide it, and where the
provided names are listed. (``azureml.exceptions`` maps v1 names onto differently named classes, and
``azureml.core.environment`` / ``.runconfig`` / ``.conda_dependencies`` gather names from several SDK modules:
they keep their own small tables.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SHIM = Path(__file__).resolve().parents[2] / "jupyter_aml" / "_shim"
HYPERDRIVE = ["azureml.train.hyperdrive", "azureml.train.hyperdrive.parameter_expressions",
              "azureml.train.hyperdrive.policy", "azureml.train.hyperdrive.run",
              "azureml.train.hyperdrive.runconfig", "azureml.train.hyperdrive.sampling"]


def _lazy_modules(folder: Path) -> list[Path]:
    """The shim modules under ``folder`` that resolve names on first use (those defining ``__getattr__``)."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text())
        if any(isinstance(node, ast.FunctionDef) and node.name == "__getattr__" for node in tree.body):
            found.append(path)
    return found


def test_the_hyperdrive_shim_modules_use_the_shared_resolver() -> None:
    modules = _lazy_modules(SHIM / "azureml" / "train") + _lazy_modules(SHIM / "azureml" / "widgets")
    assert len(modules) == len(HYPERDRIVE) + 1
    own = []
    for path in modules:
        text = path.read_text()
        if "from azureml.core._lazy import resolve" not in text or "import importlib" in text:
            own.append(str(path.relative_to(SHIM)))
    assert own == [], f"shim modules with their own resolver: {own}"


def test_hyperdrive_shim_names_and_errors_are_the_shared_resolvers() -> None:
    code = (
        "import importlib\n"
        f"for name in {HYPERDRIVE!r}:\n"
        "    module = importlib.import_module(name)\n"
        "    for attr in module.__all__:\n"
        "        source = importlib.import_module(module.SOURCE)\n"
        "        assert getattr(module, attr) is getattr(source, attr), (name, attr)\n"
        "    try:\n"
        "        module.NoSuchThing\n"
        "    except AttributeError as exc:\n"
        "        print(exc)\n"
        "try:\n"
        "    from azureml.train.hyperdrive import NoSuchThing\n"
        "except ImportError as exc:\n"
        "    print('import:', exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(SHIM), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len(HYPERDRIVE) + 1
    for name, line in zip(HYPERDRIVE, lines, strict=False):
        assert line == (f"module {name!r} has no attribute 'NoSuchThing': the jupyter-aml azureml shim does not "
                        "provide it (the v1 names it provides are listed in docs/v1-compatibility.md)")
    assert lines[-1].startswith("import: cannot import name 'NoSuchThing' from 'azureml.train.hyperdrive'")
