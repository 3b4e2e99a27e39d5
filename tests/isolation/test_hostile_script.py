"""The Done-when line of issue 8: a script submitted as an ordinary run, through the real ``aml serve``
process on local compute, walks the file system, its environment and /proc looking for the service's secrets
and another workspace's outputs. Under the default runner, bubblewrap and a dedicated user it finds nothing
but its own run token; under same-user the test records what that runner does not protect.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_aml import Experiment, ScriptRunConfig
from tests.e2e.conftest import ServiceProcess, wait_status, write_script
from tests.e2e.test_reliability import run_pids
from tests.procs import kill_processes_using

RUN_USER = "amltest"

HOSTILE = r'''
import json, os, sys, time
targets = json.loads(sys.argv[1])
report = {"env": dict(os.environ), "read": {}, "proc": {}, "found": {}, "cwd": os.getcwd()}

def grab(path):
    try:
        if os.path.isdir(path):
            out = {"listing": sorted(os.listdir(path))}
            for folder, dirs, files in os.walk(path):
                for name in files[:100]:
                    p = os.path.join(folder, name)
                    try:
                        out[p] = open(p, "rb").read(65536).decode("latin-1")
                    except OSError as exc:
                        out[p] = "ERR " + type(exc).__name__
                if len(out) > 500:
                    break
            return out
        return open(path, "rb").read(65536).decode("latin-1")
    except OSError as exc:
        return "ERR " + type(exc).__name__

for label, path in targets.items():
    report["read"][label] = grab(path)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for what in ("environ", "cmdline"):
            try:
                report["proc"][pid + "/" + what] = open("/proc/%s/%s" % (pid, what), "rb").read().decode("latin-1")
            except OSError:
                pass
names = {"service-token", "run-token.key", "aml.db", "service.json"}
skip = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/boot", "/var/lib", "/var/cache"}
deadline = time.monotonic() + 25
for folder, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skip
               and d not in ("node_modules", ".git", "site-packages", "__pycache__", ".pyenv")]
    for name in files:
        if name in names or (name.startswith("jpserver-") and name.endswith(".json")):
            p = os.path.join(folder, name)
            report["found"][p] = grab(p)
    if time.monotonic() > deadline:
        report["walk_timed_out"] = True
        break
os.makedirs("outputs", exist_ok=True)
with open("outputs/report.json", "w") as fh:
    json.dump(report, fh)
print("report written", flush=True)
'''

OTHER = "import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/secret.txt', 'w').write(os.environ['MARK'])\n"


def _jupyter_runtime_dir() -> Path:
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def _ensure_run_user() -> None:
    try:
        pwd.getpwnam(RUN_USER)
    except KeyError:
        if os.geteuid() != 0 or shutil.which("useradd") is None:
            pytest.skip(f"the dedicated-user runner needs the Unix user {RUN_USER!r} (or root to create it)")
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", RUN_USER],
                       check=True)


@pytest.fixture
def base() -> Iterator[Path]:
    """A folder every user may pass through (like /srv), so the dedicated user can reach its run folders."""
    folder = Path(tempfile.mkdtemp(prefix="aml-isolation-", dir="/tmp"))
    folder.chmod(0o711)
    yield folder
    kill_processes_using(folder / "root")
    shutil.rmtree(folder, ignore_errors=True)


def _start(base: Path, runner: str | None) -> ServiceProcess:
    extra = ["--AMLExtension.heartbeat_interval=1"]
    if runner is not None:
        extra.append(f"--AMLExtension.runner={runner}")
    if runner == "user":
        _ensure_run_user()
        # the service's own interpreter lives under /root here: the run's user runs the stdlib-only agent
        # with the system Python (the agent and the in-run modules need nothing else)
        config = base / "config.py"  # a list-of-dicts trait does not parse from the command line
        config.write_text('c.AMLExtension.computes = [{"name": "local", "python": "/usr/bin/python3"}]\n')
        extra += [f"--AMLExtension.run_as={RUN_USER}", f"--config={config}"]
    svc = ServiceProcess(base / "root", extra=extra)
    svc.root.mkdir()
    svc.start()
    return svc


def _secrets(svc: ServiceProcess) -> dict[str, str]:
    """What the script must never see, read by the test (as the service's user)."""
    root = svc.root
    found = {"service token": (root / "service-token").read_text().strip(),
             "run-token key": (root / "run-token.key").read_text().strip()}
    info = _jupyter_runtime_dir() / f"jpserver-{svc.proc.pid if svc.proc else 0}.json"
    found["jupyter token"] = json.loads(info.read_text())["token"]
    return found


def _submit_other_workspace(svc: ServiceProcess, tmp_path: Path) -> tuple[str, str]:
    """A finished run in another workspace, whose output holds a marker; returns (marker, its run folder)."""
    marker = f"OTHER-WORKSPACE-OUTPUT-{uuid.uuid4().hex}"
    src = write_script(tmp_path / "other", OTHER)
    config = ScriptRunConfig(src, "script.py")
    config.environment.environment_variables = {"MARK": marker}
    run = Experiment(svc.workspace("other"), "victim").submit(config)
    assert wait_status(run, {"Completed", "Failed"}) == "Completed", run._refresh()
    deadline = time.monotonic() + 30
    while run_pids(run.id):  # its agent reports Completed, then exits: the run is over when it is gone
        assert time.monotonic() < deadline, "the victim's agent did not exit"
        time.sleep(0.1)
    return marker, run.id


def _hostile_report(svc: ServiceProcess, tmp_path: Path, targets: dict[str, str]) -> dict[str, Any]:
    src = write_script(tmp_path / "hostile", HOSTILE)
    run = Experiment(svc.workspace("attacker"), "walk").submit(ScriptRunConfig(src, "script.py",
                                                                               [json.dumps(targets)]))
    assert wait_status(run, {"Completed", "Failed"}, timeout=180) == "Completed", run._refresh()
    path = run.download_file("outputs/report.json", tmp_path / "report.json")
    report: dict[str, Any] = json.loads(Path(path).read_text())
    agent = json.loads((svc.root.parent / f"{svc.root.name}-runs" / "work" / run.id / "agent.json").read_text())
    report["runner"] = agent["runner"]
    return report


def _targets(svc: ServiceProcess, other_run: str) -> dict[str, str]:
    root = svc.root
    runs = root.parent / f"{root.name}-runs" / "work"
    return {
        "root": str(root), "service-token": str(root / "service-token"), "run-token.key": str(root / "run-token.key"),
        "aml.db": str(root / "aml.db"), "service.json": str(root / "service.json"), "blobs": str(root / "blobs"),
        "other run folder": str(runs / other_run), "all run folders": str(runs),
        "jupyter runtime": str(_jupyter_runtime_dir()),
    }


def _leaks(report: dict[str, Any], secrets: dict[str, str], marker: str) -> list[str]:
    text = json.dumps(report)
    own = report["env"].get("AML_RUN_TOKEN", "")
    leaks = [name for name, value in {**secrets, "other workspace's output": marker}.items() if value in text]
    foreign_tokens = set(re.findall(r"amlr\.[A-Za-z0-9_\-]+\.[0-9a-f]{64}", text)) - {own}
    if foreign_tokens:
        leaks.append(f"{len(foreign_tokens)} run token(s) not its own")
    if "amls." in text:
        leaks.append("a service token (amls.)")
    return leaks


def _env_is_clean(report: dict[str, Any]) -> None:
    env = report["env"]
    assert "JUPYTER_AML_ROOT" not in env
    assert not [k for k in env if k.startswith(("JUPYTER_", "JPY_", "JUPYTERHUB_"))]
    assert env["AML_RUN_TOKEN"].startswith("amlr.")
    for name in ("AML_WORK_DIR", "AML_ENV_CACHE", "AML_JOURNAL"):
        assert name not in env or not env[name].startswith(report["read_root"] + "/")


@pytest.mark.parametrize("runner", [None, "bubblewrap", "user"], ids=["default", "bubblewrap", "user"])
def test_a_hostile_script_finds_nothing_of_the_service(base: Path, tmp_path: Path, runner: str | None) -> None:
    svc = _start(base, runner)
    try:
        secrets = _secrets(svc)
        marker, other_run = _submit_other_workspace(svc, tmp_path)
        report = _hostile_report(svc, tmp_path, _targets(svc, other_run))
        report["read_root"] = str(svc.root)
        assert report["runner"] == (runner or "bubblewrap")  # the default where bwrap works: auto -> bubblewrap
        if runner == "user":
            assert report["env"]["USER"] == RUN_USER
        _env_is_clean(report)
        for label in ("service-token", "run-token.key", "aml.db", "service.json"):
            assert str(report["read"][label]).startswith("ERR"), (label, report["read"][label])
        assert not _leaks(report, secrets, marker), _leaks(report, secrets, marker)
        # this service's files and the Jupyter server's runtime files, wherever the walk met them (another
        # service's old world-readable root elsewhere on the machine is that service's problem: see the docs)
        ours = (f"{svc.root}/", f"{_jupyter_runtime_dir()}/")
        readable = [p for p, v in report["found"].items() if p.startswith(ours) and not str(v).startswith("ERR")]
        assert not readable, readable
        own_pids = [k for k, v in report["proc"].items() if k.endswith("/environ") and "AML_RUN_ID=" in v]
        assert own_pids, "the script should see its own processes"
        assert all("AML_RUN_ID=" + report["env"]["AML_RUN_ID"] in report["proc"][k] for k in own_pids)
    finally:
        svc.stop()


def test_same_user_protects_only_the_environment(base: Path, tmp_path: Path) -> None:
    """What the same-user runner does NOT protect (why it is never the default when bwrap works)."""
    svc = _start(base, "same-user")
    try:
        secrets = _secrets(svc)
        marker, other_run = _submit_other_workspace(svc, tmp_path)
        report = _hostile_report(svc, tmp_path, _targets(svc, other_run))
        report["read_root"] = str(svc.root)
        assert report["runner"] == "same-user"
        _env_is_clean(report)  # the allowlist holds under every runner
        assert report["read"]["service-token"] == secrets["service token"]  # but the files are the service's
        assert "service token" in _leaks(report, secrets, marker)
    finally:
        svc.stop()
