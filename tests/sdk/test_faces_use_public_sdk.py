"""The faces (CLI, magics, widgets) and the agent reach the service only through public SDK queries or
the runtime client: none of them reaches into an SDK object's transport or path builders."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "jupyter_aml"
FACES = [*sorted((PACKAGE / "cli").glob("*.py")), PACKAGE / "magics.py", *sorted((PACKAGE / "widgets").glob("*.py"))]
PRIVATE = {"_client", "_path", "_vpath", "_api", "_details"}


def private_reaches(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE:
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue  # a face's own attribute of that name
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: .{node.attr}")
    return found


def test_faces_touch_no_sdk_privates() -> None:
    assert len(FACES) > 10
    reaches = [hit for path in FACES for hit in private_reaches(path)]
    assert reaches == []


def test_no_rest_path_is_built_outside_the_client() -> None:
    """Every ``/workspaces/...`` path is built by runtime/api.py from the generated templates."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("server/", "core/", "runtime/api")):
            continue  # the service itself; the client
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
                if text.lstrip("/").startswith("workspaces/") or ("/runs/" in text and "workspaces" in text):
                    offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
