"""The OpenAPI document against the running service, by schemathesis: every check, a fixed seed, over 2,000
cases. A request the document calls valid must not be refused, one it calls invalid must not be taken, no
answer may be a 5xx, and every answer must match its declared status, content type and schema.

Two passes over a real ``aml serve``: one where schemathesis makes up every path segment (so nearly every
lookup is a 404 and the checks are about the document's shapes), and one where the path segments name a
real workspace, run, snapshot, blob and model, so that the handlers behind the lookups run too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.cli.conftest import Service, serve

REPO = Path(__file__).resolve().parents[2]

pytest.importorskip("schemathesis")

SEED = 20261203
EXAMPLES = 10  # fuzzed per operation and pass; the coverage phase adds its own cases (over 8,000 in all today)
MIN_CASES = 2000
WS = "st-ws"
BLOB = b"print('hello')\n"

# Not fuzzed, and why:
EXCLUDED = [
    # an event stream: the answer never ends, so there is no response to check
    "--exclude-path", "/events",
    # builds a virtualenv and pip-installs whatever the fuzzer registered as requirements (network, minutes)
    "--exclude-path-regex", "/build$",
]

# Requests the document cannot tell apart from accepted ones, because what decides is the service's state,
# not the request's shape: schemathesis may see a 400 from these operations for a valid-looking request.
# Each value is the service's message, for the reader: the config can only allow a 400 for the whole
# operation. Most are state preconditions whose status should rather be 404 or 409 (reported).
STATE_DEPENDENT = {
    # the blobs a manifest names must have been uploaded first
    "POST /workspaces/{workspace}/snapshots": "1 file blobs are not uploaded",
    "POST /workspaces/{workspace}/runs/{run_id}/files": "blobs are not uploaded",
    # the uploaded bytes must hash to the sha256 of the URL
    "PUT /workspaces/{workspace}/blobs/{sha256}": "the uploaded bytes hash to",
    # the role must exist in the workspace; the compute target must be configured; the script must be in
    # the snapshot; a run's model path must name the run's files
    "PUT /workspaces/{workspace}/members/{user}": "there is no role",
    "POST /workspaces/{workspace}/runs": "compute target",
    "POST /workspaces/{workspace}/runs/from-folder": "is not in the source directory snapshot",
    # a dataset's paths must name files on a registered datastore (or an http(s) URL that answers)
    "POST /workspaces/{workspace}/datasets": "matches no file",
    "POST /workspaces/{workspace}/models": "names no file or folder of the run",
    # the run_path must name the run's files
    "POST /workspaces/{workspace}/runs/{run_id}/models": "names no file or folder of the run",
    # an action pattern must match a known action (fnmatch): the document gives the patterns' alphabet only,
    # as the role editor takes free text
    "PUT /workspaces/{workspace}/roles/{name}": "these name no known action",
    # the compute type must have a launcher installed; the snapshot and models must exist
    "POST /workspaces/{workspace}/endpoints": "has no launcher installed",
    "PATCH /workspaces/{workspace}/endpoints/{name}": "does not exist",
    # a datastore is listed when registered: a local folder must exist, an S3 endpoint answer, the name be free
    "POST /workspaces/{workspace}/datastores": "was not registered",
    # a path on a datastore may not climb out of its root ('..', absolute, a symlink); a glob must match
    "GET /workspaces/{workspace}/datastores/{name}/files": "escapes the datastore's root",
    "GET /workspaces/{workspace}/datastores/{name}/file": "escapes the datastore's root",
    "PUT /workspaces/{workspace}/datastores/{name}/file": "escapes the datastore's root",
    # an output's files must have been uploaded as blobs first (as a snapshot's)
    "POST /workspaces/{workspace}/runs/{run_id}/outputs/{name}": "were not uploaded",
    # a pipeline's steps need their snapshot and script, a compute target, and a step writing each input
    "POST /workspaces/{workspace}/pipelines/validate": "which no step of the pipeline produces",
    "POST /workspaces/{workspace}/pipelines/runs": "which no step of the pipeline produces",
}
# Of those, the ones that answer 422 when the body names something of its own that does not match (a
# parameter assignment for a parameter the pipeline does not declare, or of another type: issue 10's 422),
# which no schema can say: the assignments' keys must be the names in the same body's parameters list
UNPROCESSABLE = {"POST /workspaces/{workspace}/pipelines/validate", "POST /workspaces/{workspace}/pipelines/runs"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """``aml serve`` in a scratch folder: POST runs/from-folder snapshots folders of the server's working
    directory, which must not be this repository."""
    scratch = tmp_path_factory.mktemp("schemathesis")
    root, cwd = scratch / "root", scratch / "cwd"
    root.mkdir()
    cwd.mkdir()
    # Valid compute creates start real clusters: a small quota keeps the fuzzing from filling the machine with
    # cluster hosts (past it: 429 QuotaExceeded, which the fuzzer accepts).
    quota = {"JUPYTER_AML_MAX_COMPUTES_PER_WORKSPACE": "2", "JUPYTER_AML_MAX_LOCAL_CLUSTER_NODES": "2"}
    with serve(root, cwd=cwd, env=quota) as running:
        yield running


# A check switched off for one operation ("METHOD /path": check), each with the reason and where the fix
# belongs; none today. Keep it empty: an entry hides a bug.
KNOWN_GAPS: dict[str, str] = {}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _config(path: Path, pinned: dict[str, Any] | None, page_token: str) -> Path:
    lines = [
        f"seed = {SEED}",
        # the token comes from the environment, never the command line (which every user on the machine can read)
        'headers = { Authorization = "Bearer ${AML_SCHEMATHESIS_TOKEN}" }',
        "[generation]",
        f"max-examples = {EXAMPLES}",
        # the service refuses NUL in every text field (it cannot be stored); the document says nothing of it
        "allow-x00 = false",
        "[parameters]",
        f'"query.page_token" = "{page_token}"',  # opaque: only one the service issued is valid
    ]
    if pinned:
        lines += [f'"path.{k}" = {json.dumps(v)}' for k, v in pinned.items() if k != "name"]
    for operation in STATE_DEPENDENT:
        method, route = operation.split(" ", 1)
        lines += [
            "[[operations]]",
            f'include-method = "{method}"',
            f'include-path = "{route}"',
            # schemathesis leaves 422 out of a positive check's expected statuses whatever the list says, so for
            # these the check is off (the 5xx, status, content-type and schema checks still run)
            "checks.positive_data_acceptance.enabled = false" if operation in UNPROCESSABLE else
            "checks.positive_data_acceptance.expected-statuses = [200, 201, 202, 204, 400, 401, 403, 404, 409, 429]",
        ]
    for operation, check in KNOWN_GAPS.items():
        method, route = operation.split(" ", 1)
        lines += ["[[operations]]", f'include-method = "{method}"', f'include-path = "{route}"',
                  f"checks.{check}.enabled = false"]
    if pinned and "name" in pinned:
        lines += ["[[operations]]", 'include-path-regex = "/models/"', "[operations.parameters]",
                  f'"path.name" = {json.dumps(pinned["name"])}']
    path.write_text("\n".join(lines) + "\n")
    return path


def _schemathesis(service: Service, config: Path, report: Path, phases: str) -> tuple[int, str, int]:
    proc = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
         # One worker: CPython 3.11's ast.parse (which Hypothesis calls to describe its filters) is not thread-safe
         # and fails at random with "AST constructor recursion depth mismatch" under two (CPython gh-106905).
         f"{service.url}/openapi.json", "--workers", "1",  # every check: all are on unless the config turns one off
         "--phases", phases,
         # 10 s by default: on a loaded 2-core CI machine an upload can take longer, which is no defect
         "--request-timeout", "30",
         "--report", "junit", "--report-junit-path", str(report), *EXCLUDED],
        capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL, cwd=config.parent,
        env={**os.environ, "AML_SCHEMATHESIS_TOKEN": service.token},
    )
    out = proc.stdout + proc.stderr
    generated = re.search(r"(\d+) generated", out)
    return proc.returncode, out, int(generated.group(1)) if generated else 0


def _fixtures(service: Service) -> dict[str, Any]:
    """A workspace with a run (with a file, a log line and a metric), a snapshot, a blob and a model."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {service.token}"
    base = service.url

    def call(method: str, path: str, body: Any = None, data: bytes | None = None) -> Any:
        answer = http.request(method, f"{base}/{path}", json=body, data=data, timeout=30)
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    call("POST", "workspaces", {"name": WS})
    blob = sha(BLOB)
    call("PUT", f"workspaces/{WS}/blobs/{blob}", data=BLOB)
    snap = call("POST", f"workspaces/{WS}/snapshots",
                {"files": [{"path": "train.py", "sha256": blob, "size": len(BLOB)}]})
    run = call("POST", f"workspaces/{WS}/runs", {"experiment": "exp", "kind": "interactive"})
    call("POST", f"workspaces/{WS}/runs/{run['id']}/files",
         {"files": [{"path": "outputs/model.pkl", "sha256": blob, "size": len(BLOB)}]})
    call("POST", f"workspaces/{WS}/runs/{run['id']}/logs", {"lines": [{"text": "hello"}]})
    call("POST", f"workspaces/{WS}/models",
         {"name": "mdl", "path": "model.pkl", "files": [{"path": "model.pkl", "sha256": blob, "size": len(BLOB)}]})
    for _ in range(2):
        call("POST", f"workspaces/{WS}/runs", {"experiment": "exp", "kind": "interactive"})
    page = call("GET", f"workspaces/{WS}/runs?page_size=1")
    return {"run_id": run["id"], "snapshot_id": snap["id"], "sha256": blob, "page_token": page["next_page_token"]}


@pytest.mark.timeout(1200)  # two schemathesis passes over ~90 operations; the subprocess has its own 900 s limit
def test_the_openapi_document_holds_for_every_operation(service: Service, tmp_path: Path,
                                                        database_backend: str) -> None:
    if database_backend != "sqlite":  # `aml serve` has no database option: this pass would repeat the SQLite one
        pytest.skip("runs in the SQLite pass only")
    made = _fixtures(service)
    total = 0
    pinned = {"workspace": WS, "run_id": made["run_id"], "snapshot_id": made["snapshot_id"],
              "sha256": made["sha256"], "version": 1, "name": "mdl"}
    # The coverage phase (each schema's boundary and invalid values) runs where the paths name real resources:
    # with generated path segments nearly all its thousands of cases stop at a 404 (CI time: ~90 s).
    passes = (("generated", None, "examples,fuzzing"), ("pinned", pinned, "examples,coverage,fuzzing"))
    for label, pins, phases in passes:
        config = _config(tmp_path / f"{label}.toml", pins, made["page_token"])
        code, out, generated = _schemathesis(service, config, tmp_path / f"{label}.xml", phases)
        assert code == 0, f"schemathesis ({label} path segments) found problems:\n{out[-20000:]}"
        total += generated
    assert total >= MIN_CASES, f"only {total} cases ran"
