"""Warm replicas (jupyter_aml.serving.warm): a deploy's replica is a pre-started process of its environment with
scikit-learn already imported, it serves its own model with its own variables, and a killed idle process is
replaced. Real ``aml serve``, real sandbox (bubblewrap when it is here), real processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

import requests

from jupyter_aml import Environment, InferenceConfig, LocalWebservice, Model
from tests.serving.conftest import SCORING


def _idle_pids(root: Path) -> set[int]:
    """The outermost processes of the service's idle warm replicas (bwrap, or python without a sandbox)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"jupyter_aml.serving.warm" in argv and any(str(root).encode() in a for a in argv):
            found.add(int(entry))
    if not found:  # no sandbox: python itself, recognised by its folder
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
                    cwd = os.readlink(f"/proc/{entry}/cwd")
                except OSError:
                    continue
                if b"jupyter_aml.serving.warm" in argv and cwd.startswith(str(root)):
                    found.add(int(entry))
    return found


def _wait_idle(root: Path, not_in: set[int] = frozenset(), timeout: float = 30) -> set[int]:  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = _idle_pids(root) - not_in
        if pids and list((root / "serving" / "warm").glob("*/replicas/warm-ready.json")):
            return pids  # it has finished importing: the next deploy takes it warm
        time.sleep(0.1)
    raise AssertionError(f"no idle warm replica process under {root} within {timeout} s")


def _score(svc) -> dict:
    key = svc.get_keys()[0]
    resp = requests.post(svc.scoring_uri, json={"data": 1}, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_replicas_start_warm_and_a_killed_idle_process_is_replaced(service, tmp_path):
    ws = service.workspace("warm")
    env = Environment("warm-env")
    env.environment_variables["GREETING"] = "warm-hello"
    registered = env.register(ws)
    inference = InferenceConfig("score.py", source_directory=SCORING / "warmcheck", environment=registered)
    config = LocalWebservice.deploy_configuration(replicas=1)
    services = []
    try:
        for n in range(3):
            (tmp_path / f"m{n}").mkdir()
            (tmp_path / f"m{n}" / "value.txt").write_text(f"model-{n}\n")
        first = Model.register(ws, tmp_path / "m0" / "value.txt", "warm-m0")
        svc = Model.deploy(ws, "warm-a", [first], inference, config)
        services.append(svc)
        svc.wait_for_deployment()
        assert _score(svc)["model"] == "model-0"  # cold or warm: it serves
        root = Path(service.root)
        idle = _wait_idle(root)  # started ahead of need when the environment was first prepared

        second = Model.register(ws, tmp_path / "m1" / "value.txt", "warm-m1")
        svc = Model.deploy(ws, "warm-b", [second], inference, config)
        services.append(svc)
        svc.wait_for_deployment()
        answer = _score(svc)
        assert answer["warm"] is True and answer["flag"] == "1", answer  # sklearn was there before its first line
        assert answer["model"] == "model-1" and answer["service"] == "warm-b", answer  # its own model and variables
        assert answer["greeting"] == "warm-hello", answer  # the environment's variables
        if shutil.which("bwrap"):  # the sandbox is kept: other services' folders are hidden from it
            assert answer["sees_services"] is False and answer["sees_models"] == [], answer

        refill = _wait_idle(root, not_in=idle)  # a fresh idle process for the next replica
        for pid in refill:  # bwrap and its in-sandbox copy share the command line and the group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        _wait_idle(root, not_in=idle | refill)  # replaced

        third = Model.register(ws, tmp_path / "m2" / "value.txt", "warm-m2")
        svc = Model.deploy(ws, "warm-c", [third], inference, config)
        services.append(svc)
        svc.wait_for_deployment()
        answer = _score(svc)
        assert answer["warm"] is True and answer["model"] == "model-2" and answer["service"] == "warm-c", answer
        logs = svc.get_logs()
        assert "started warm" in logs, logs[-2000:]
    finally:
        for svc in services:
            svc.delete()
