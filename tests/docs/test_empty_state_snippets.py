"""Every code snippet the studio shows (``<code>`` text in src/*.tsx: empty states and hints) names only
calls that exist: its Python names resolve in the installed ``azureml`` shim, checked in a fresh interpreter
(tests/docs/resolve_snippets.py), and each ``aml ...`` command and option exists in the real CLI."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RESOLVER = Path(__file__).with_name("resolve_snippets.py")
CODE = re.compile(r"<code>(.*?)</code>", re.S)
JSX_NAME = re.compile(r"\{([A-Za-z_][\w.]*)\}")


def snippets() -> dict[str, list[str]]:
    """{snippet: [files showing it]}, static text only: a ``{expression}`` that is all of it (a run id, a
    path) is data, and one inside a string (``as_named_input("{name}")``) becomes NAME."""
    found: dict[str, list[str]] = {}
    for path in sorted((REPO / "src").rglob("*.tsx")):
        for match in CODE.finditer(path.read_text()):
            text = " ".join(match.group(1).replace("{' '}", " ").split())
            text = html.unescape(JSX_NAME.sub("NAME", text))
            if "{" in text or text == "NAME" or not re.match(r"\.?[A-Za-z_]", text):
                continue  # an expression, or a path like ./outputs
            found.setdefault(text, []).append(str(path.relative_to(REPO)))
    return found


def resolve(codes: list[str]) -> dict[str, list[str]]:
    proc = subprocess.run([sys.executable, str(RESOLVER)], input=json.dumps(codes), capture_output=True,
                          text=True, timeout=120, check=False, cwd="/")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_every_python_snippet_names_calls_that_exist() -> None:
    found = snippets()
    python = [s for s in found if not s.startswith("aml ")]
    # the sections the issue named are among them: the test is not passing on an empty list
    assert any(s.startswith("Dataset.Tabular.") for s in python) and any("Datastore." in s for s in python)
    assert any("Pipeline(" in s for s in python if "pipeline/section.tsx" in " ".join(found[s]))
    results = resolve([("_any" + s) if s.startswith(".") else s for s in python])
    missing = {f"{s}  ({', '.join(found[s.removeprefix('_any')] if s.startswith('_any') else found[s])})": m
               for s, m in results.items() if m}
    assert not missing, f"snippets in src/ that name what the shim does not have: {missing}"


def test_the_checker_catches_a_name_that_does_not_exist() -> None:
    results = resolve(["exp.submit(Pipelines(ws, steps=[...]))", "run.log_nothing(1)", "Model.register(ws, pth=1)",
                       "run.log('a', 1)"])
    assert results["exp.submit(Pipelines(ws, steps=[...]))"] == ["Pipelines"]
    assert results["run.log_nothing(1)"] == ["run.log_nothing"]
    assert results["Model.register(ws, pth=1)"] and not results["run.log('a', 1)"]


@pytest.mark.parametrize("command", sorted(s for s in snippets() if s.startswith("aml ")))
def test_every_cli_snippet_exists(command: str) -> None:
    words = command.split()[1:]
    path = [w for w in words if re.fullmatch(r"[a-z][a-z-]*", w)]
    path = path[: next((i for i, w in enumerate(words) if w.startswith("-")), len(words))]
    options = [w for w in words if w.startswith("--")]
    proc = subprocess.run([sys.executable, "-m", "jupyter_aml.cli", *path, "--help"], capture_output=True,
                          text=True, timeout=60, check=False, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200",
                                                                   "HOME": str(REPO)})
    assert proc.returncode == 0, f"`aml {' '.join(path)}` is not a command: {proc.stdout}{proc.stderr}"
    assert f"aml {' '.join(path)}" in " ".join(proc.stdout.split()), proc.stdout
    for option in options:
        assert option in proc.stdout, f"`aml {' '.join(path)}` has no {option}:\n{proc.stdout}"
