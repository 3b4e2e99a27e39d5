"""``aml model ...`` and ``aml endpoint ...`` against the real service."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.conftest import Outcome, Service, run_cli

SCORING = Path(__file__).resolve().parents[1] / "serving" / "scoring"


@pytest.fixture
def aml(service, tmp_path):
    info = service.info()
    svc = Service(root=service.root, url=info["url"], token=info["token"],
                  env={"JUPYTER_AML_URL": info["url"], "JUPYTER_AML_TOKEN": info["token"]})

    def call(*args: str) -> Outcome:
        outcome = run_cli(svc, "-w", "clireg", *args, cwd=tmp_path)
        assert "Traceback" not in outcome.stderr
        return outcome

    return call


def test_model_commands(aml, tmp_path):
    model = tmp_path / "echo.txt"
    model.write_text("cli-model\n")
    first = aml("model", "register", str(model), "--name", "cli-echo", "--tag", "stage=dev", "--json")
    assert first.exit_code == 0, first.stderr
    assert first.json["id"] == "cli-echo:1"
    assert aml("model", "register", str(model), "--name", "cli-echo").exit_code == 0
    listed = aml("model", "list", "--name", "cli-echo", "--json").json["items"]
    assert [m["version"] for m in listed] == [2, 1]
    assert [m["version"] for m in aml("model", "list", "--tag", "stage=dev", "--json").json["items"]] == [1]
    table = aml("model", "list")
    assert "cli-echo" in table.stdout and "stage=dev" in table.stdout
    shown = aml("model", "show", "cli-echo:1", "--json").json
    assert shown["files"][0]["path"] == "echo.txt" and shown["tags"] == {"stage": "dev"}
    assert "echo.txt" in aml("model", "show", "cli-echo").stdout
    assert aml("model", "download", "cli-echo:1", "-o", str(tmp_path / "dl")).exit_code == 0
    assert (tmp_path / "dl" / "echo.txt").read_text() == "cli-model\n"
    assert aml("model", "delete", "cli-echo:2").exit_code == 0
    missing = aml("model", "show", "cli-echo:2")
    assert missing.exit_code == 1 and "not found" in missing.stderr
    assert aml("model", "delete", "cli-echo").exit_code == 2  # a version must be named


def test_endpoint_commands(aml, tmp_path):
    model = tmp_path / "echo.txt"
    model.write_text("served\n")
    assert aml("model", "register", str(model), "--name", "ep-echo").exit_code == 0
    deployed = aml("endpoint", "deploy", "cli-svc", "--model", "ep-echo:1", "--entry-script", "echo.py",
                   "--source-directory", str(SCORING), "--json")
    assert deployed.exit_code == 0, deployed.stderr
    assert deployed.json["state"] == "Healthy" and deployed.json["models"] == ["ep-echo:1"]
    assert "cli-svc" in aml("endpoint", "list").stdout
    assert "Healthy" in aml("endpoint", "show", "cli-svc").stdout
    scored = aml("endpoint", "score", "cli-svc", "--data", json.dumps({"data": [[1, 2]]}), "--json")
    assert scored.exit_code == 0 and scored.json["model"] == "served"
    bad = aml("endpoint", "score", "cli-svc", "--data", json.dumps({"boom": True}))
    assert bad.exit_code == 1 and "status 500" in bad.stderr
    keys = aml("endpoint", "keys", "cli-svc", "--json").json
    regenerated = aml("endpoint", "keys", "cli-svc", "--regenerate", "secondary", "--json").json
    assert regenerated["primary_key"] == keys["primary_key"] and regenerated["secondary_key"] != keys["secondary_key"]
    assert "revision 1" in aml("endpoint", "logs", "cli-svc").stdout
    model.write_text("served-v2\n")
    assert aml("model", "register", str(model), "--name", "ep-echo").exit_code == 0
    updated = aml("endpoint", "update", "cli-svc", "--model", "ep-echo:2", "--json")
    assert updated.exit_code == 0 and updated.json["revision"] == 2
    assert aml("endpoint", "score", "cli-svc", "--data", "{}", "--json").json["model"] == "served-v2"
    telemetry = aml("endpoint", "telemetry", "cli-svc", "--json").json
    assert telemetry["requests"] == 3 and telemetry["errors_5xx"] == 1
    assert "requests" in aml("endpoint", "telemetry", "cli-svc").stdout
    in_use = aml("model", "delete", "ep-echo:2")
    assert in_use.exit_code == 1 and "used by the active deployment" in in_use.stderr
    assert aml("endpoint", "delete", "cli-svc").exit_code == 0
    assert aml("endpoint", "show", "cli-svc").exit_code == 1


def test_environment_commands(aml, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.17.0  # pinned\n")
    created = aml("environment", "create", "--name", "cli-env", "-r", str(requirements), "--env", "MODE=fast",
                  "--json")
    assert created.exit_code == 0, created.stderr
    assert created.json["version"] == 1 and created.json["spec"]["python"]["pip"] == ["six==1.17.0"]
    again = aml("environment", "create", "--name", "cli-env", "-r", str(requirements), "--env", "MODE=fast", "--json")
    assert again.json["version"] == 1  # unchanged definition: same version
    changed = aml("environment", "create", "--name", "cli-env", "--pip", "six", "--json")
    assert changed.json["version"] == 2
    assert [e["version"] for e in aml("environment", "list", "--name", "cli-env", "--json").json["items"]] == [2, 1]
    assert re.search(r"cli-env\s+2\s", aml("environment", "list").stdout)  # the latest version of each
    shown = aml("environment", "show", "cli-env:1")
    assert "MODE=fast" in shown.stdout and "six==1.17.0" in shown.stdout

    first = aml("environment", "build", "cli-env:1", "--json")
    assert first.exit_code == 0, first.stderr
    assert first.json["environment"] == "cli-env:1" and first.json["venv_hash"]
    assert Path(first.json["python"]).is_file()
    second = aml("environment", "build", "cli-env:1", "--json")
    assert second.json["built"] is False and second.json["python"] == first.json["python"]  # cached

    bad = aml("environment", "create", "--name", "cli-bad", "--pip", "jupyter-aml-no-such-package-xyz==0.0.1")
    assert bad.exit_code == 0
    failed = aml("environment", "build", "cli-bad")
    assert failed.exit_code == 1 and "could not be built" in failed.stderr, failed.stderr
    assert "jupyter-aml-no-such-package-xyz" in failed.stderr  # the installer's own reason
    assert aml("environment", "show", "cli-env:7").exit_code == 1
    assert aml("environment", "show", "cli-env:x").exit_code == 2
