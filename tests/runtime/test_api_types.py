"""The generated client types match the OpenAPI document the server serves, and the client covers it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from jupyter_aml.runtime import api_types
from jupyter_aml.runtime.api import build_path, match_path
from jupyter_aml.server.extension import all_routes
from jupyter_aml.server.openapi import build_openapi

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "scripts" / "gen_api_types_py.py"
CLIENT = [REPO / "jupyter_aml" / "runtime" / name for name in ("api.py", "api_transport.py", "api_pipelines.py")]


def test_committed_api_types_are_fresh() -> None:
    """Fails (never skips) when a model or route changed without `python scripts/gen_api_types_py.py`."""
    out = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + "\nrun: python scripts/gen_api_types_py.py"


def test_the_check_notices_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "api_types.py"
    stale.write_text((REPO / "jupyter_aml/runtime/api_types.py").read_text().replace("class Run(", "class Rum(", 1))
    out = subprocess.run([sys.executable, str(GENERATOR), "--check", "--out", str(stale)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1 and "stale" in out.stderr


def _templates_used_by_the_client() -> set[tuple[str, str]]:
    """(METHOD, template) of every call in runtime/api.py and its bases, read from their source."""
    verbs = {"_get": "GET", "_post": "POST", "_put": "PUT", "_patch": "PATCH", "_delete": "DELETE"}
    used: set[tuple[str, str]] = set()
    nodes = [node for file in CLIENT for node in ast.walk(ast.parse(file.read_text()))]
    for node in nodes:
        if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        template = node.args[0].value
        if not isinstance(template, str):
            continue
        if name in verbs:
            used.add((verbs[name], template))
        elif name == "build_path":
            used.add(("ANY", template))
    return used


def test_the_client_has_a_method_for_every_route() -> None:
    document = build_openapi(all_routes(), "0")
    served = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    used = _templates_used_by_the_client()
    raw = {t for m, t in used if m == "ANY"}
    typed = {(m, t) for m, t in used if m != "ANY"}
    assert typed <= served
    assert raw <= {p for _, p in served}
    uncovered = {(m, p) for m, p in served if (m, p) not in typed and p not in raw}
    assert uncovered == set()


def test_paths_quote_every_value_and_match_back() -> None:
    path = build_path("/workspaces/{workspace}/runs/{run_id}/metrics/{name}", workspace="w s", run_id="r/1",
                      name="loss%")
    assert path == "/workspaces/w%20s/runs/r%2F1/metrics/loss%25"
    found = match_path(sorted({p for _, p in api_types.QUERY_PARAMETERS}), path)
    assert found == ("/workspaces/{workspace}/runs/{run_id}/metrics/{name}",
                     {"workspace": "w s", "run_id": "r/1", "name": "loss%"})
    # a literal segment wins over a parameter: runs/from-folder is not the run "from-folder"
    assert match_path(sorted({p for _, p in api_types.QUERY_PARAMETERS}), "/workspaces/w/runs/from-folder") == (
        "/workspaces/{workspace}/runs/from-folder", {"workspace": "w"})
