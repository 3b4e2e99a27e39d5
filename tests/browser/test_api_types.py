"""src/api-types.ts must be what `jlpm gen:api` generates from the server's current OpenAPI document.

The frontend's REST types are generated (openapi-typescript) from the OpenAPI document, which is generated
from the pydantic models: when a model changes, regenerate with `jlpm gen:api` and commit the result.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "gen-api-types.mjs"


def test_generated_api_types_are_up_to_date(tmp_path: Path) -> None:
    # Never a skip: ./dev installs node and node_modules, and CI runs this test; a missing one is a broken setup.
    node = shutil.which("node")
    assert node is not None, "node is not installed: run ./dev (it installs node and the JS dependencies)"
    assert (REPO / "node_modules" / "openapi-typescript").is_dir(), (
        "node_modules is missing: run ./dev (or `jlpm install`) before the tests"
    )
    out = tmp_path / "api-types.ts"
    result = subprocess.run(
        [node, str(SCRIPT), "--out", str(out)],
        cwd=REPO,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    committed = (REPO / "src" / "api-types.ts").read_text()
    assert out.read_text() == committed, (
        "src/api-types.ts is out of date with the server's models (jupyter_aml/core/models.py, registry_models.py, "
        "events.py): run `jlpm gen:api` and commit it"
    )
