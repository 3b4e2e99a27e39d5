"""The bubblewrap runner's sandbox, checked on its command line and by running real commands in it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_aml.compute.runners import BubblewrapRunner, SameUserRunner, build_runner
from jupyter_aml.core.known_roots import known_folders, remember

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


@pytest.fixture()
def outside_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Folders outside /tmp and home (both hidden wholesale), where another service's root can sit."""
    folder = Path(__file__).resolve().parents[2] / ".aml" / f"test-roots-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    monkeypatch.setenv("JUPYTER_AML_KNOWN_ROOTS", str(tmp_path / "known-roots"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_other_services_roots_this_user_opened_are_hidden_too(tmp_path: Path, outside_tmp: Path) -> None:
    other_root, other_work = outside_tmp / "other", outside_tmp / "other-runs" / "work"
    (other_work / "their-run").mkdir(parents=True)
    other_root.mkdir()
    (other_root / "service-token").write_text("THEIRS")
    (other_work / "their-run" / "out.txt").write_text("THEIR OUTPUT")
    holder = outside_tmp / "holder"  # a root that also holds something the run is given (read_only)
    (holder / "shared").mkdir(parents=True)
    (holder / "secret.key").write_text("KEY")
    (holder / "shared" / "data.csv").write_text("a,b")
    remember(other_root, other_work, holder)
    remember(outside_tmp / "gone")  # a folder that no longer exists is not kept
    assert known_folders() == [other_root.resolve(), other_work.resolve(), holder.resolve()]

    home, work, envs = tmp_path / "home", tmp_path / "runs" / "work", tmp_path / "runs" / "envs"
    home.mkdir()
    run_dir = work / "r1"
    runner = BubblewrapRunner()
    runner.prepare(run_dir, work, envs)
    probe = ("import sys\ndef read(p):\n    try:\n        return open(p).read()\n    except OSError:\n"
             "        return None\nprint([read(p) for p in sys.argv[1:]])\n")
    paths = [other_root / "service-token", other_work / "their-run" / "out.txt", holder / "secret.key",
             holder / "shared" / "data.csv"]
    launch = runner.launch([sys.executable, "-c", probe, *map(str, paths)], {"HOME": str(home), "PATH": "/usr/bin"},
                           run_dir=run_dir, work_root=work, env_cache=envs, read_only=[holder / "shared"])
    out = subprocess.run(launch.argv, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    # the given folder stays readable; the holder's key does not (/dev/null is bound over it)
    assert out.stdout.strip() == "[None, None, None, 'a,b']"
