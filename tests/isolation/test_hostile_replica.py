"""A web service's scoring script, deployed locally through the real ``aml serve`` process, tries to read the
service's secrets in ``init()`` and reports what it found from ``run()``. Under the bubblewrap runner it finds
nothing, yet it still loads its model and scores; under same-user the test records what that runner leaves open.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from jupyter_aml import InferenceConfig, LocalWebservice, Model
from tests.e2e.conftest import ServiceProcess
from tests.procs import kill_processes_using

HOSTILE_SCORE = r'''
import json, os

report = {}


def grab(path):
    try:
        if os.path.isdir(path):
            out = {"listing": sorted(os.listdir(path))}
            for name in out["listing"][:200]:
                p = os.path.join(path, name)
                if os.path.isfile(p):
                    try:
                        out[p] = open(p, "rb").read(65536).decode("latin-1")
                    except OSError as exc:
                        out[p] = "ERR " + type(exc).__name__
            return out
        return open(path, "rb").read(65536).decode("latin-1")
    except OSError as exc:
        return "ERR " + type(exc).__name__


def init():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "targets.json")) as fh:
        targets = json.load(fh)
    report["read"] = {label: grab(path) for label, path in targets.items()}
    report["proc"] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                report["proc"][pid] = open("/proc/%s/environ" % pid, "rb").read().decode("latin-1")
            except OSError:
                pass
    try:
        with open(targets["planted"], "w") as fh:
            fh.write("planted by a scoring script")
        report["planted"] = "written"
    except OSError as exc:
        report["planted"] = "ERR " + type(exc).__name__
    try:  # a link in its revision folder, for the service to follow when it prepares the revision again
        os.symlink(targets["root"], os.path.join(os.path.dirname(here), "planted-link"))
        report["link"] = "made"
    except OSError as exc:
        report["link"] = "ERR " + type(exc).__name__
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.txt")) as fh:
        report["model"] = fh.read().strip()


def run(raw_data):
    return {"input": json.loads(raw_data), "report": report}
'''


@pytest.fixture
def base() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="aml-replica-isolation-", dir="/tmp"))
    yield folder
    kill_processes_using(folder / "root")
    shutil.rmtree(folder, ignore_errors=True)


def _start(base: Path, runner: str) -> ServiceProcess:
    svc = ServiceProcess(base / "root", extra=[f"--AMLExtension.runner={runner}"])
    svc.root.mkdir()
    svc.start()
    return svc


def _secrets(svc: ServiceProcess) -> dict[str, str]:
    """What the scoring script must never see, read by the test (as the service's user)."""
    from jupyter_core.paths import jupyter_runtime_dir

    root = svc.root
    found = {name: (root / name).read_text().strip() for name in ("service-token", "run-token.key", "secret.key")
             if (root / name).is_file()}
    info = Path(jupyter_runtime_dir()) / f"jpserver-{svc.proc.pid if svc.proc else 0}.json"
    found["jupyter token"] = json.loads(info.read_text())["token"]
    return found


def _deploy_hostile(svc: ServiceProcess, tmp_path: Path) -> dict[str, Any]:
    """Deploy the hostile scoring script and score once; return what ``run()`` answered."""
    ws = svc.workspace("attacker")
    root = svc.root
    source = tmp_path / "src"
    source.mkdir()
    (source / "score.py").write_text(HOSTILE_SCORE)
    targets = {name: str(root / name) for name in ("service-token", "run-token.key", "secret.key", "aml.db",
                                                     "service.json")}
    targets.update(root=str(root), blobs=str(root / "blobs"), models=str(root / "serving" / "models"),
                   planted=str(root / "planted.txt"))
    if svc.proc is not None:
        targets["service environment"] = f"/proc/{svc.proc.pid}/environ"
    (source / "targets.json").write_text(json.dumps(targets))
    (tmp_path / "model.txt").write_text("the-model\n")
    model = Model.register(ws, tmp_path / "model.txt", "hostile-model")
    service = Model.deploy(ws, "hostile-svc", [model], InferenceConfig("score.py", source_directory=source),
                           LocalWebservice.deploy_configuration())
    service.wait_for_deployment()
    assert service.state == "Healthy", service.get_logs()
    resp = requests.post(service.scoring_uri, json={"data": [1]}, timeout=30,
                         headers={"Authorization": f"Bearer {service.get_keys()[0]}"})
    assert resp.status_code == 200, resp.text
    answer: dict[str, Any] = resp.json()
    service.delete()
    return answer


def _leaks(report: dict[str, Any], secrets: dict[str, str]) -> list[str]:
    text = json.dumps(report)
    leaks = [name for name, value in secrets.items() if value and value in text]
    if "amls." in text:
        leaks.append("a service token (amls.)")
    return leaks


def test_a_hostile_scoring_script_finds_nothing_of_the_service_under_bubblewrap(base: Path, tmp_path: Path) -> None:
    svc = _start(base, "bubblewrap")
    try:
        secrets = _secrets(svc)
        answer = _deploy_hostile(svc, tmp_path)
        report = answer["report"]
        assert answer["input"] == {"data": [1]} and report["model"] == "the-model"  # it still scores
        for label in ("service-token", "run-token.key", "secret.key", "aml.db", "service.json"):
            assert str(report["read"][label]).startswith("ERR"), (label, report["read"][label])
        assert not _leaks(report, secrets), _leaks(report, secrets)
        assert not (svc.root / "planted.txt").exists()  # the root is not writable (a tmpfs inside)
        assert report["link"].startswith("ERR"), "its revision folder is read-only to it"
        assert str(report["read"]["service environment"]).startswith("ERR")  # the service's /proc is not there
    finally:
        svc.stop()


def test_same_user_replicas_can_read_the_service_root(base: Path, tmp_path: Path) -> None:
    """What the same-user runner does NOT protect, for web services as for runs."""
    svc = _start(base, "same-user")
    try:
        secrets = _secrets(svc)
        report = _deploy_hostile(svc, tmp_path)["report"]
        assert report["read"]["service-token"] == secrets["service-token"]
        assert "service-token" in _leaks(report, secrets)
    finally:
        svc.stop()
