"""Materialise a run's Python environment: a user-managed interpreter, or a cached venv per spec hash.

Venvs live in ``<env cache>/<sha256 of the canonical spec>``. A build happens in a temporary sibling
folder under an exclusive file lock and is renamed into place when complete, so a crashed build leaves
nothing usable behind and two runs with the same spec build once. ``jupyter_aml`` is made importable in
the venv through a ``.pth`` line that adds ``<venv>/aml-link`` (a folder holding only a ``jupyter_aml``
symlink to this installation), so the service's other site-packages stay invisible to the script.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_aml.envbuild.conda import CondaError, resolve_section
from jupyter_aml.errors import RunCanceled

PKG_DIR = Path(__file__).resolve().parent.parent  # the installed jupyter_aml package
SHIM_DIR = PKG_DIR / "_shim"
READY_MARKER = ".aml-env.json"
LINK_DIRNAME = "aml-link"
SPEC_VERSION = 1

LogFn = Callable[[str], None]


class EnvBuildError(Exception):
    """The environment could not be prepared; ``tail`` holds the last lines of the build output."""

    def __init__(self, message: str, tail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.tail = tail


@dataclass(frozen=True)
class PreparedEnv:
    python: str  # the interpreter that runs the script
    venv: Path | None = None  # the cached venv, None for user-managed interpreters
    built: bool = False  # True if this call built the venv
    spec_hash: str | None = None


@dataclass(frozen=True)
class PythonSpec:
    user_managed: bool
    interpreter: str | None
    pip: tuple[str, ...]  # with the conda packages' PyPI equivalents first (envbuild/conda.py)
    env_vars: dict[str, str]
    python_version: str | None = None  # "3.11": the base interpreter must be that Python
    notes: tuple[str, ...] = ()  # what the conda mapping skipped or ignored, for the build log


def needs_managed_venv(python: Mapping[str, Any] | None) -> bool:
    """The one rule for a spec's ``python`` section: an explicit ``user_managed`` wins (True: the user's
    interpreter as it is, as in Azure ML v1; False: a venv the service builds); when it is unset (None or
    missing), pip requirements mean a managed venv. Callers whose models default the flag to True pass
    ``True`` as unset (``default_managed_flag``)."""
    python = python or {}
    explicit = python.get("user_managed")
    if explicit is not None:
        return not explicit
    conda = python.get("conda_dependencies") or {}
    return any(str(r).strip() for r in [*(python.get("pip") or []), *(conda.get("dependencies") or []),
                                         *(conda.get("pip") or [])] if str(r).strip() not in ("pip", "python"))


def default_managed_flag(user_managed: bool) -> bool | None:
    """A model's ``user_managed`` whose default is True, read as the rule reads it: True means "not set"."""
    return None if user_managed else False


def definition_user_managed(user_managed: bool, pip: Iterable[Any] | None,
                            conda: Mapping[str, Any] | None = None) -> bool:
    """The pip rule for a definition whose ``user_managed`` defaults to True (a registered environment, the
    SDK's ``Environment``): True there means "not set", so pip requirements (or conda packages) still get a
    managed venv."""
    return not needs_managed_venv({"user_managed": default_managed_flag(user_managed), "pip": list(pip or []),
                                   "conda_dependencies": dict(conda or {})})


def definition_spec(environment: Mapping[str, Any]) -> dict[str, Any]:
    """A registered environment's definition as the builder's spec (``python`` with ``user_managed`` settled by
    the pip rule, ``env_vars``), for every place that builds one: local replicas, images, the build route."""
    python = dict(environment.get("python") or {})
    python["user_managed"] = definition_user_managed(bool(python.get("user_managed", True)), python.get("pip"),
                                                     python.get("conda_dependencies"))
    return {"python": python, "env_vars": dict(environment.get("env_vars") or {}),
            "python_version": environment.get("python_version")}


def parse_spec(spec: Mapping[str, Any] | None) -> PythonSpec:
    """Read ``{name, python: {user_managed, interpreter_path?, pip: [...]}, env_vars: {}}``."""
    spec = spec or {}
    python = spec.get("python") or {}
    try:
        conda = resolve_section(python.get("conda_dependencies"))
    except CondaError as exc:
        raise EnvBuildError(str(exc)) from None
    pip = tuple(str(r).strip() for r in [*(conda.pip if conda else ()), *(python.get("pip") or [])] if str(r).strip())
    user_managed = not needs_managed_venv(python)
    env_vars = {str(k): str(v) for k, v in (spec.get("env_vars") or {}).items()}
    wanted = spec.get("python_version") or None
    pinned = conda.python_version if conda else None
    if wanted and pinned and wanted != pinned:
        raise EnvBuildError(f"the environment asks for Python {wanted}, and its conda file for python={pinned}: "
                            "give one version")
    return PythonSpec(bool(user_managed), python.get("interpreter_path") or None, pip, env_vars,
                      python_version=wanted or pinned, notes=conda.notes if conda else ())


def spec_hash(pip: tuple[str, ...] | list[str], base_python: str) -> str:
    """sha256 of the canonical description of a venv: requirements and the base interpreter."""
    real = os.path.realpath(base_python)
    if os.path.realpath(sys.executable) == real:
        version = sys.version
    else:
        out = subprocess.run([base_python, "-c", "import sys; print(sys.version)"],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise EnvBuildError(f"base interpreter {base_python} does not run", out.stderr[-2000:])
        version = out.stdout.strip()
    canonical = json.dumps({"v": SPEC_VERSION, "pip": list(pip), "python": real, "version": version},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def ensure_link_dir(folder: Path) -> Path:
    """Make ``folder/jupyter_aml`` a symlink to this installation (atomically replaced if stale)."""
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "jupyter_aml"
    if link.is_symlink() and os.readlink(link) == str(PKG_DIR):
        return folder
    tmp = folder / f".jupyter_aml.{os.getpid()}.{threading.get_ident()}"
    tmp.unlink(missing_ok=True)
    os.symlink(PKG_DIR, tmp)
    os.replace(tmp, link)
    return folder


def run_logged(cmd: list[str], log: LogFn, cancel: threading.Event | None = None,
               env: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None,
               tail_lines: int = 40) -> tuple[int, str]:
    """Run ``cmd`` (own session), sending each output line to ``log``; return (exit code, tail)."""
    log("$ " + " ".join(cmd))
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True)
    tail: collections.deque[str] = collections.deque(maxlen=tail_lines)

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            tail.append(line)
            log(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        while True:
            try:
                proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if cancel is not None and cancel.is_set():
                    _kill_group(proc)
                    raise RunCanceled() from None
    finally:
        if proc.returncode is None:
            _kill_group(proc)
        reader.join(timeout=5)
    return proc.returncode, "\n".join(tail)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class _FileLock:
    """An exclusive ``flock`` that waits while watching ``cancel``."""

    def __init__(self, path: Path, log: LogFn, cancel: threading.Event | None) -> None:
        self.path, self.log, self.cancel = path, log, cancel
        self.fd = -1

    def __enter__(self) -> _FileLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        said = False
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if not said:
                    self.log("another run is building the same environment; waiting for it")
                    said = True
                if self.cancel is not None and self.cancel.is_set():
                    os.close(self.fd)
                    raise RunCanceled() from None
                time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # releases the lock


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages"))
    if len(found) != 1:
        raise EnvBuildError(f"cannot find the site-packages folder of {venv}")
    return found[0]


def _builder_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(var, None)
    # uv does not read pip's settings: carry the usual ones over when uv's own are not set.
    for pip_var, uv_var in (("PIP_INDEX_URL", "UV_INDEX_URL"), ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
                            ("PIP_FIND_LINKS", "UV_FIND_LINKS")):
        if env.get(pip_var) and not env.get(uv_var):
            env[uv_var] = ",".join(env[pip_var].split()) if pip_var != "PIP_INDEX_URL" else env[pip_var]
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    return env


def _build(tmp: Path, base: str, pip: tuple[str, ...], builder: str, log: LogFn,
           cancel: threading.Event | None) -> None:
    env = _builder_env()
    uv = shutil.which("uv") if builder in ("auto", "uv") else None
    if builder == "uv" and uv is None:
        raise EnvBuildError("AML_ENV_BUILDER=uv but uv is not on PATH")
    tmp.mkdir(parents=True)
    req = tmp / "aml-requirements.txt"
    req.write_text("\n".join(pip) + "\n")
    prompt = "aml-" + tmp.name.split("-")[1][:12]
    if uv:
        steps = [[uv, "venv", "--relocatable", "--prompt", prompt, "--python", base, str(tmp), "--allow-existing"],
                 [uv, "pip", "install", "--python", str(tmp / "bin" / "python"), "-r", str(req)]]
    else:
        steps = [[base, "-m", "venv", "--prompt", prompt, str(tmp)],
                 [str(tmp / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                  "--no-input", "-r", str(req)]]
    for cmd in steps:
        code, tail = run_logged(cmd, log, cancel, env=env)
        if code != 0:
            raise EnvBuildError(f"environment build failed: {Path(cmd[0]).name} exited with code {code}", tail)


def _relocate(tmp: Path, final: Path) -> None:
    """Rewrite absolute mentions of the temporary folder (script shebangs, activate, pyvenv.cfg)."""
    old, new = str(tmp).encode(), str(final).encode()
    for folder in (tmp / "bin", tmp):
        for item in folder.iterdir():
            if item.is_symlink() or not item.is_file() or item.stat().st_size > (2 << 20):
                continue
            if folder == tmp and item.name != "pyvenv.cfg":
                continue
            data = item.read_bytes()
            if old in data:
                mode = item.stat().st_mode
                item.write_bytes(data.replace(old, new))
                item.chmod(mode)


def find_interpreter(version: str) -> str:
    """An installed Python ``version`` ("3.11"): this one, else what ``uv python find`` finds (never a download),
    else ``pythonX.Y`` on PATH; refused with the reason when there is none."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    uv = shutil.which("uv")
    if uv is not None:
        env = {**_builder_env(), "UV_PYTHON_DOWNLOADS": "never"}
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            out = subprocess.run([uv, "python", "find", "--system", version], capture_output=True, text=True,
                                 timeout=60, env=env, stdin=subprocess.DEVNULL)
            found = out.stdout.strip().splitlines()
            if out.returncode == 0 and found and os.access(found[-1], os.X_OK):
                return found[-1]
    on_path = shutil.which(f"python{version}")
    if on_path is not None:
        return on_path
    raise EnvBuildError(f"the environment needs Python {version}, which is not installed on this machine (uv python "
                        f"find {version} and python{version} on PATH found none; nothing is downloaded here): install "
                        f"it on the machine that runs the run, or drop the version (python={version} in the conda "
                        "file, python.python_version)")


def interpreter_version(python: str) -> str:
    """"3.11" of an interpreter."""
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True,
                         text=True, timeout=60, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise EnvBuildError(f"interpreter {python} does not run", out.stderr[-2000:])
    return out.stdout.strip()


def interpreter_spec(environment: Mapping[str, Any]) -> dict[str, Any]:
    """A registered environment's definition as the builder's spec, with ``python_version`` turned into a base
    interpreter found on this machine."""
    spec = definition_spec(environment)
    wanted = parse_spec(spec).python_version
    if wanted and not spec["python"].get("interpreter_path"):
        spec["python"]["interpreter_path"] = find_interpreter(wanted)
    return spec


def prepare_environment(spec: Mapping[str, Any] | None, cache_dir: Path, *, log: LogFn,
                        cancel: threading.Event | None = None, builder: str = "auto") -> PreparedEnv:
    """The interpreter for a run, building (or reusing) the cached venv its spec describes."""
    py = parse_spec(spec)
    for note in py.notes:
        log(note)
    if py.user_managed:
        interpreter = py.interpreter or sys.executable
        if not (os.path.isfile(interpreter) and os.access(interpreter, os.X_OK)):
            raise EnvBuildError(f"interpreter_path {interpreter!r} is not an executable file")
        _check_version(interpreter, py.python_version)
        log(f"user-managed environment: {interpreter}")
        return PreparedEnv(python=interpreter)
    if py.interpreter:
        base = py.interpreter
        _check_version(base, py.python_version)
    else:
        base = find_interpreter(py.python_version) if py.python_version else sys.executable
    digest = spec_hash(py.pip, base)
    cache_dir.mkdir(parents=True, exist_ok=True)
    final = cache_dir / digest
    if (final / READY_MARKER).is_file():
        log(f"reusing cached environment {digest[:12]}")
        ensure_link_dir(final / LINK_DIRNAME)
        return PreparedEnv(python=str(final / "bin" / "python"), venv=final, spec_hash=digest)
    with _FileLock(cache_dir / f"{digest}.lock", log, cancel):
        if (final / READY_MARKER).is_file():
            log(f"reusing environment {digest[:12]} built by another run")
            ensure_link_dir(final / LINK_DIRNAME)
            return PreparedEnv(python=str(final / "bin" / "python"), venv=final, spec_hash=digest)
        for stale in cache_dir.glob(f".tmp-{digest}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if final.exists():  # no marker: not ours to trust
            shutil.rmtree(final, ignore_errors=True)
        tmp = cache_dir / f".tmp-{digest}-{os.getpid()}"
        log(f"building environment {digest[:12]}: {', '.join(py.pip)}")
        started = time.monotonic()
        try:
            _build(tmp, base, py.pip, builder, log, cancel)
            site = _site_packages(tmp)
            ensure_link_dir(tmp / LINK_DIRNAME)
            rel = os.path.relpath(final / LINK_DIRNAME, final / site.relative_to(tmp))
            (site / "_jupyter_aml_link.pth").write_text(rel + "\n")
            _relocate(tmp, final)
            marker = {"spec_hash": digest, "pip": list(py.pip), "base_python": base, "built_at": time.time()}
            (tmp / READY_MARKER).write_text(json.dumps(marker, indent=1))
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log(f"environment {digest[:12]} ready in {time.monotonic() - started:.1f} s")
    return PreparedEnv(python=str(final / "bin" / "python"), venv=final, built=True, spec_hash=digest)


def _check_version(python: str, wanted: str | None) -> None:
    if wanted and (found := interpreter_version(python)) != wanted:
        raise EnvBuildError(f"the environment needs Python {wanted}, and its interpreter {python} is Python {found}: "
                            "name an interpreter of that version, or drop the version")


PROBE = """
import importlib.util as u, json
def has(name):
    try:
        return u.find_spec(name) is not None
    except Exception:
        return False
print(json.dumps({"azureml": has("azureml.core"), "jupyter_aml": has("jupyter_aml.runtime.env")}))
"""


def probe_interpreter(python: str, env: Mapping[str, str], cwd: Path) -> dict[str, bool]:
    """Can ``python`` (with the script's environment) import a real ``azureml.core`` / ``jupyter_aml``?"""
    try:
        out = subprocess.run([python, "-c", PROBE], env=dict(env), cwd=cwd, capture_output=True,
                             text=True, timeout=120)
    except OSError as exc:
        raise EnvBuildError(f"cannot run interpreter {python}: {exc}") from exc
    if out.returncode != 0:
        raise EnvBuildError(f"interpreter {python} failed to start (code {out.returncode})", out.stderr[-4000:])
    try:
        result = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise EnvBuildError(f"unexpected answer from interpreter {python}", out.stdout[-2000:]) from exc
    return {k: bool(v) for k, v in result.items()}
