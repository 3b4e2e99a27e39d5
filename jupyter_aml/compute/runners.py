"""How the local compute target starts a run's agent: who it runs as, and what it can see.

A runner turns the agent's command line and environment into the command that starts it:

- ``same-user``: as the service's own user, unchanged. Protects nothing but the environment allowlist.
- ``user``: as a dedicated Unix user (``setpriv``); the service's 0700 root, its processes' environments
  and the other runs' 0700 folders are then out of reach. Needs root (or CAP_SETUID, CAP_SETGID, CAP_KILL).
- ``bubblewrap``: in a ``bwrap`` sandbox: the file system read-only, the service's root, home, /tmp,
  Jupyter's runtime and config folders and every other run's folder hidden; only this run's folder and the
  environment cache writable; a pid namespace of its own, so the service's /proc is invisible; no
  capabilities.
- ``auto`` (the default): ``bubblewrap`` when ``bwrap`` is installed and a probe sandbox starts, else
  ``same-user`` with a warning in the log.

See docs/isolation.md for what each one protects and how to configure it.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from jupyter_aml.core.known_roots import known_folders
from jupyter_aml.errors import InvalidInput

log = logging.getLogger(__name__)

RUNNER_NAMES = ("auto", "same-user", "user", "bubblewrap")
# Sockets a uid-0 sandbox could still connect to (a read-only mount does not stop connect()).
DEFAULT_HIDDEN = ("/run/docker.sock", "/var/run/docker.sock", "/run/containerd", "/run/user")
_CAP_KILL, _CAP_SETGID, _CAP_SETUID = 5, 6, 7
_probe_results: dict[str, str | None] = {}  # bwrap path -> None (works) or why it does not


@dataclass(frozen=True)
class Launch:
    """The command that starts the agent, and how to start it."""

    argv: list[str]
    env: dict[str, str]
    ignore_sigterm: bool = False  # a wrapper (bwrap) must outlive the polite SIGTERM meant for the agent


class Runner(abc.ABC):
    name: ClassVar[str]
    protects: ClassVar[str]
    own_pid_namespace: ClassVar[bool] = False  # True: the process cannot see the service's pid

    def prepare(self, run_dir: Path, work_root: Path, env_cache: Path) -> None:
        """Make the run's folder (0700, the runner's user's) and the env cache before the agent starts."""
        for folder in (work_root, env_cache):
            if not folder.exists():
                folder.mkdir(mode=0o700, parents=True)
        run_dir.mkdir(mode=0o700, exist_ok=True)
        run_dir.chmod(0o700)

    @abc.abstractmethod
    def launch(self, argv: list[str], env: dict[str, str], *, run_dir: Path, work_root: Path,
               env_cache: Path, read_only: Iterable[Path] = (), die_with_parent: bool = False,
               engine_socket: bool = False) -> Launch:
        """The command that starts ``argv``. ``read_only``: folders it must read even inside the service's root
        (a web service's revision); ``die_with_parent``: it ends with the process that starts it (replicas end
        with the service; a cluster node's run ends with its worker; local runs outlive a service restart);
        ``engine_socket``: the agent of a Docker run may reach the Docker engine (its script runs in a container
        that never gets the socket), which a sandbox otherwise hides."""

    def finish(self, run_dir: Path) -> None:  # noqa: B027 - optional hook
        """After the agent ended: take back what the run's user owned."""

    def check(self, python: str, pythonpath: str) -> str | None:
        """At start: None if the agent can start this way, else why not."""
        return None

    def describe(self) -> dict[str, Any]:
        return {"runner": self.name, "protects": self.protects}


class SameUserRunner(Runner):
    name = "same-user"
    protects = "the service's environment variables only: the run can read all of the service user's files"

    def launch(self, argv: list[str], env: dict[str, str], *, run_dir: Path, work_root: Path,
               env_cache: Path, read_only: Iterable[Path] = (), die_with_parent: bool = False,
               engine_socket: bool = False) -> Launch:
        return Launch(argv, env)


def _has_capabilities(*caps: int) -> bool:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                effective = int(line.split()[1], 16)
                return all(effective >> cap & 1 for cap in caps)
    except (OSError, ValueError):
        pass
    return False


def _can_traverse(path: Path, uid: int, gids: set[int]) -> Path | None:
    """The first folder on the way to ``path`` that ``uid`` may not pass through, or None."""
    for folder in [*reversed(path.parents), path]:
        try:
            st = folder.stat()
        except OSError:
            continue
        if st.st_uid == uid:
            ok = st.st_mode & 0o100
        elif st.st_gid in gids:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            return folder
    return None


def _chown_tree(top: Path, uid: int, gid: int) -> None:
    os.chown(top, uid, gid)
    for folder, dirs, files in os.walk(top):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(folder, name), uid, gid)


class DedicatedUserRunner(Runner):
    name = "user"
    protects = ("the service's root, its processes' environments and other runs' folders (all unreadable to "
                "the run's user); world-readable files stay readable")

    def __init__(self, user: str | None) -> None:
        if not user:
            raise InvalidInput("the 'user' runner needs the name of the Unix user to run as",
                               hint='set "run_as" on the compute target or c.AMLExtension.run_as')
        try:
            self.pw = pwd.getpwnam(user)
        except KeyError:
            raise InvalidInput(f"the 'user' runner's user {user!r} does not exist on this machine",
                               hint=f"create it (e.g. `useradd --system {user}`) or pick another") from None
        if self.pw.pw_uid == os.geteuid():
            raise InvalidInput(f"the 'user' runner's user {user!r} is the service's own user",
                               hint="use a different user, or the 'same-user' runner")
        if os.geteuid() != 0 and not _has_capabilities(_CAP_SETUID, _CAP_SETGID, _CAP_KILL):
            raise InvalidInput(f"the 'user' runner needs root or CAP_SETUID, CAP_SETGID and CAP_KILL to run as "
                               f"{user!r}", hint="start the service as root, or use the 'bubblewrap' runner")
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            raise InvalidInput("the 'user' runner needs setpriv (util-linux) on PATH")
        self.setpriv = setpriv
        self.user = user

    def _env_cache(self, env_cache: Path) -> Path:
        return env_cache / f"user-{self.user}"  # its own: a venv built by one user is not writable by another

    def prepare(self, run_dir: Path, work_root: Path, env_cache: Path) -> None:
        uid, gid = self.pw.pw_uid, self.pw.pw_gid
        for shared in (work_root, env_cache):  # passable (0711), not listable, so it reaches its own folder
            shared.mkdir(mode=0o700, parents=True, exist_ok=True)
            if shared.stat().st_uid == os.geteuid():
                shared.chmod(0o711)
        own_cache = self._env_cache(env_cache)
        own_cache.mkdir(exist_ok=True)
        own_cache.chmod(0o700)
        os.chown(own_cache, uid, gid)
        blocked = _can_traverse(work_root, uid, {gid, *os.getgrouplist(self.user, gid)})
        if blocked is not None:
            raise InvalidInput(
                f"the run's user {self.user!r} cannot reach the run folders in {work_root}: {blocked} is closed to it",
                hint="set c.AMLExtension.work_root and env_cache to folders under one it can pass through, "
                "e.g. /srv/jupyter-aml-runs",
            )
        super().prepare(run_dir, work_root, env_cache)
        _chown_tree(run_dir, uid, gid)

    def check(self, python: str, pythonpath: str) -> str | None:
        cmd = [self.setpriv, f"--reuid={self.pw.pw_uid}", f"--regid={self.pw.pw_gid}", "--init-groups", "--",
               python, "-c", "import jupyter_aml.agent.main"]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": pythonpath, "HOME": "/"}
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=60, env=env, cwd="/", stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if done.returncode == 0:
            return None
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return f"{self.user!r} cannot start the agent with {python}: {tail[0]}"

    def finish(self, run_dir: Path) -> None:
        """Every run shares the one user: a finished run's folder goes back to the service, so later runs
        cannot read its outputs (runs at the same time can: see docs/isolation.md)."""
        if run_dir.is_dir():
            _chown_tree(run_dir, os.geteuid(), os.getegid())

    def launch(self, argv: list[str], env: dict[str, str], *, run_dir: Path, work_root: Path,
               env_cache: Path, read_only: Iterable[Path] = (), die_with_parent: bool = False,
               engine_socket: bool = False) -> Launch:
        home = Path(self.pw.pw_dir)
        if not home.is_dir():
            home = run_dir / "home"
            home.mkdir(exist_ok=True)
            os.chown(home, self.pw.pw_uid, self.pw.pw_gid)
        env = {**env, "HOME": str(home), "USER": self.user, "LOGNAME": self.user,
               "AML_ENV_CACHE": str(self._env_cache(env_cache))}
        wrapped = [self.setpriv, f"--reuid={self.pw.pw_uid}", f"--regid={self.pw.pw_gid}", "--init-groups",
                   "--inh-caps=-all", "--", *argv]
        return Launch(wrapped, env)


def _under(path: Path, folders: Iterable[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


_GENERAL_DIRS = (".local", ".config", ".cache", "share", "lib")


def _tool_root(path: Path, hidden: list[Path]) -> Path:
    """The whole tool a needed path belongs to: ``~/.pyenv`` for ``~/.pyenv/shims`` (a shim needs the rest
    of pyenv), but only ``~/.local/bin`` for ``~/.local/bin/uv``: general folders are not shown whole."""
    for top in sorted(hidden, key=lambda h: len(h.parts), reverse=True):  # the nearest hidden folder
        if top in path.parents:
            parts = path.relative_to(top).parts
            depth = 1
            while depth < len(parts) and parts[depth - 1] in _GENERAL_DIRS:
                depth += 1
            return top.joinpath(*parts[:depth])
    return path


def _existing(paths: Iterable[str | os.PathLike[str] | None]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        if not raw:
            continue
        path = Path(os.path.realpath(os.fspath(raw)))
        if path.exists() and path not in out:
            out.append(path)
    return out


def _other_services_folders(secret: list[Path], hidden: list[Path], shown: list[Path],
                            kept: list[Path]) -> list[Path]:
    """What to hide of the other service roots this user opened (core/known_roots.py): each whole, or, for a
    folder that holds something the run needs (a root that contains the venv), its top-level files, where a
    root keeps its database, keys and service token. Folders the sandbox hides anyway are left out: this
    service's own, and those under /tmp or home that no re-shown folder (a checkout in /tmp) brings back."""
    out: list[Path] = []
    for folder in known_folders():
        if _under(folder, secret) or (_under(folder, hidden) and not _under(folder, shown)
                                      and not any(_under(path, [folder]) for path in shown)):
            continue
        if any(_under(path, [folder]) for path in kept):
            with contextlib.suppress(OSError):
                out += [entry for entry in folder.iterdir() if entry.is_file() and not entry.is_symlink()]
        else:
            out.append(folder)
    return out


class BubblewrapRunner(Runner):
    name = "bubblewrap"
    own_pid_namespace = True
    protects = ("everything of the service's: root, home, /tmp, Jupyter runtime/config folders, other runs' "
                "folders and the service's processes are invisible; only the run folder and env cache are writable")

    def __init__(self, *, protected: Iterable[str | os.PathLike[str]] = (), hide_home: bool = True,
                 bwrap: str | None = None) -> None:
        found = bwrap or shutil.which("bwrap")
        if found is None:
            raise InvalidInput("the 'bubblewrap' runner needs bwrap on PATH",
                               hint="install it (Debian/Ubuntu: `apt-get install bubblewrap`) or pick another runner")
        self.bwrap = found
        self.protected = [str(p) for p in protected]
        self.hide_home = hide_home

    def probe(self) -> str | None:
        """None when a sandbox starts here; else what went wrong (e.g. no user namespaces)."""
        if self.bwrap not in _probe_results:
            cmd = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
                   "--cap-drop", "ALL", "--", sys.executable, "-c", "pass"]
            try:
                done = subprocess.run(cmd, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
                _probe_results[self.bwrap] = None if done.returncode == 0 else (
                    done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}")
            except (OSError, subprocess.TimeoutExpired) as exc:
                _probe_results[self.bwrap] = str(exc)
        return _probe_results[self.bwrap]

    def launch(self, argv: list[str], env: dict[str, str], *, run_dir: Path, work_root: Path,
               env_cache: Path, read_only: Iterable[Path] = (), die_with_parent: bool = False,
               engine_socket: bool = False) -> Launch:
        home = env.get("HOME") or os.environ.get("HOME")
        broad = [Path("/tmp"), Path("/var/tmp")]  # hidden (fresh and writable inside), needed parts re-shown
        if self.hide_home and home and Path(home).resolve() != Path("/"):
            broad.append(Path(home))
        hidden_sockets = [p for p in DEFAULT_HIDDEN if not (engine_socket and p.endswith("docker.sock"))]
        secret = _existing([*self.protected, work_root, *hidden_sockets, os.environ.get("XDG_RUNTIME_DIR")])
        needed = _existing(self._needed(argv, env))
        hidden = _existing(broad)
        args = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
                "--unshare-ipc", "--cap-drop", "ALL"]
        if die_with_parent:  # never for local runs: they outlive a service restart
            args.append("--die-with-parent")  # the sandbox also ends when bwrap itself is killed
        for path in hidden:
            args += ["--tmpfs", str(path)]
        shown: list[Path] = []
        for path in needed:  # what the agent needs from a hidden folder
            if _under(path, hidden) and not _under(path, secret) and not _under(path, [run_dir, env_cache]):
                tool = _tool_root(path, hidden)
                if not _under(tool, shown):
                    shown.append(tool)
                    args += ["--ro-bind", str(tool), str(tool)]
        given = _existing(read_only)
        secret += _other_services_folders(secret, hidden, [*shown, *given],
                                          [run_dir, env_cache, *needed, *given])
        for path in secret:  # after the re-shown parts, so none of them shows a secret again
            args += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
        for path in given:  # named by the caller, so shown even inside a hidden folder
            args += ["--ro-bind", str(path), str(path)]
        for path in (env_cache, run_dir):
            args += ["--bind", str(path), str(path)]
        args += ["--chdir", str(run_dir), "--", *argv]
        return Launch(args, {**env, "TMPDIR": "/tmp"}, ignore_sigterm=True)

    @staticmethod
    def _needed(argv: list[str], env: dict[str, str]) -> list[str]:
        python = Path(argv[0])
        needed = [sys.prefix, sys.base_prefix, sys.exec_prefix, str(python.parent.parent),
                  str(python.resolve().parent.parent)]
        for name in ("PYTHONPATH", "PATH"):
            needed += [p for p in env.get(name, "").split(os.pathsep) if p]
        needed += [env[n] for n in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PIP_CERT") if env.get(n)]
        return needed


def build_runner(name: str = "auto", *, run_as: str | None = None,
                 protected: Iterable[str | os.PathLike[str]] = (), hide_home: bool = True) -> Runner:
    """The runner called ``name``; an unknown name is refused with the valid ones listed."""
    if name == "same-user":
        return SameUserRunner()
    if name == "user":
        return DedicatedUserRunner(run_as)
    if name == "bubblewrap":
        runner = BubblewrapRunner(protected=protected, hide_home=hide_home)
        problem = runner.probe()
        if problem:
            raise InvalidInput(f"the 'bubblewrap' runner cannot start a sandbox here: {problem}",
                               hint="check that unprivileged user namespaces are enabled, or pick another runner")
        return runner
    if name == "auto":
        if shutil.which("bwrap"):
            runner = BubblewrapRunner(protected=protected, hide_home=hide_home)
            problem = runner.probe()
            if problem is None:
                return runner
            log.warning("runs are NOT sandboxed: bwrap is installed but cannot start a sandbox (%s); local runs "
                        "run as the service's user and can read its files (see docs/isolation.md)", problem)
        else:
            log.warning("runs are NOT sandboxed: bwrap is not installed; local runs run as the service's user and "
                        "can read its files. Install bubblewrap, or set a runner (see docs/isolation.md)")
        return SameUserRunner()
    raise InvalidInput(f"unknown runner {name!r}", hint="valid runners: " + ", ".join(RUNNER_NAMES))
