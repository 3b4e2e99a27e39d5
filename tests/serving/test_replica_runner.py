"""Which runner local web-service replicas start through: the local compute target's, as runs do."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from jupyter_aml.compute.runners import BubblewrapRunner, DedicatedUserRunner, SameUserRunner
from jupyter_aml.serving.manager import DeploymentManager


def _manager(root: Path) -> DeploymentManager:
    service = SimpleNamespace(settings=SimpleNamespace(root=root), deployments=SimpleNamespace())
    return DeploymentManager(service)  # type: ignore[arg-type]


def test_replicas_use_the_local_targets_runner(tmp_path: Path) -> None:
    same = SameUserRunner()
    manager = _manager(tmp_path)
    manager.use_runner_of({"gpu": SimpleNamespace(), "local": SimpleNamespace(runner=same)})
    assert manager.runner is same


def test_a_dedicated_user_runner_falls_back_to_a_sandbox_hiding_the_root(tmp_path: Path) -> None:
    if BubblewrapRunner(protected=()).probe() is not None:
        pytest.skip("bwrap cannot start a sandbox here")
    user = object.__new__(DedicatedUserRunner)  # its user cannot read the revision inside the 0700 root
    manager = _manager(tmp_path)
    manager.use_runner_of({"local": SimpleNamespace(runner=user)})
    assert isinstance(manager.runner, BubblewrapRunner) and str(tmp_path) in manager.runner.protected


def test_sandboxed_replicas_die_with_the_service_and_see_their_revision(tmp_path: Path) -> None:
    try:
        runner = BubblewrapRunner(protected=[tmp_path])
    except Exception as exc:  # no bwrap on PATH
        pytest.skip(str(exc))
    rev, models = tmp_path / "serving" / "rev-1", tmp_path / "serving" / "models" / "abc"
    for folder in (rev, models):
        folder.mkdir(parents=True)
    launch = runner.launch(["python3", "-m", "x"], {}, run_dir=rev, work_root=tmp_path / "work", env_cache=rev,
                           read_only=[models], die_with_parent=True)
    args = launch.argv
    assert "--die-with-parent" in args and launch.ignore_sigterm
    hide, show = args.index(str(tmp_path)), args.index(str(models))
    assert args[hide - 1] == "--tmpfs" and args[show - 1] == "--ro-bind" and show > hide  # shown after hidden
    assert "--die-with-parent" not in runner.launch(["python3"], {}, run_dir=rev, work_root=tmp_path / "work",
                                                    env_cache=rev).argv  # runs outlive a service restart
