"""The bubblewrap runner's sandbox, checked on its command line and by running real commands in it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_aml.compute.runners import BubblewrapRunner, SameUserRunner, build_runner

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


def _sandbox(tmp_path: Path, home: Path, protected: list[Path]) -> tuple[list[str], Path]:
    work, envs = tmp_path / "runs" / "work", tmp_path / "runs" / "envs"
    run_dir = work / "r1"
    runner = BubblewrapRunner(protected=protected)
    runner.prepare(run_dir, work, envs)
    launch = runner.launch([sys.executable, "-c", "pass"], {"HOME": str(home), "PATH": f"{home}/.tool/bin:/usr/bin"},
                           run_dir=run_dir, work_root=work, env_cache=envs)
    assert launch.ignore_sigterm
    return launch.argv, run_dir


def test_secrets_are_hidden_after_what_is_shown_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".tool" / "bin").mkdir(parents=True)
    (home / ".tool" / "secret-inside").mkdir()
    argv, run_dir = _sandbox(tmp_path, home, [home / ".tool" / "secret-inside"])
    text = " ".join(argv)
    assert "--unshare-pid" in argv and argv[argv.index("--cap-drop") + 1] == "ALL"
    assert "--die-with-parent" not in argv  # a run outlives a restart of the service
    shown = text.index(f"--ro-bind {home}/.tool {home}/.tool")  # the whole tool, not only its bin/
    assert text.index(f"--tmpfs {home} ") < shown < text.index(f"--tmpfs {home}/.tool/secret-inside")
    assert text.rindex(f"--bind {run_dir} {run_dir}") > text.index(f"--tmpfs {tmp_path / 'runs' / 'work'}")


def test_in_the_sandbox_only_the_run_folder_is_writable_and_secrets_are_gone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "vault").mkdir(parents=True)
    (home / "vault" / "key").write_text("SECRET")
    other = tmp_path / "runs" / "work" / "other-run"
    other.mkdir(parents=True)
    (other / "out.txt").write_text("OTHER")
    argv, run_dir = _sandbox(tmp_path, home, [])
    probe = (
        "import os, sys\n"
        f"print(os.path.exists({str(home / 'vault' / 'key')!r}), os.path.exists({str(other / 'out.txt')!r}))\n"
        "open('mine.txt', 'w').write('x')\n"
        "try:\n    open('/etc/aml-probe', 'w')\nexcept OSError as e:\n    print(type(e).__name__)\n"
        "print(sorted(p for p in os.listdir('/proc') if p.isdigit()))\n"
    )
    cmd = [*argv[: argv.index("--") + 1], sys.executable, "-c", probe]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "False False"
    assert lines[1] == "OSError"
    assert len(eval(lines[2])) <= 3  # bwrap's init, python: nothing of the host
    assert (run_dir / "mine.txt").read_text() == "x"


def test_auto_picks_bubblewrap_where_it_works() -> None:
    assert isinstance(build_runner("auto"), BubblewrapRunner)
    assert isinstance(build_runner("same-user"), SameUserRunner)
