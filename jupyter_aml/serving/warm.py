"""Warm replicas: one pre-started, pre-imported idle replica process per environment, waiting for its model.

Why not a fork server (a zygote that forks each replica): local replicas run in a bubblewrap sandbox whose
read-only binds are the replica's own revision (its scoring code and models) and its environment; a
sandbox's mounts are fixed when bwrap starts, and a child forked by a zygote shares the zygote's mount
namespace. A zygote would have to show every revision of every service of that environment to every
replica (one service's code and models readable by another's scoring script), or run outside the sandbox.
Neither keeps today's isolation, so this module does the other design the brief allows:

- ``WarmPool.ensure`` starts, ahead of need (when a revision of an environment is prepared: the first
  deploy of an environment and every one after), one idle process per environment through the same
  runner as a cold replica (bwrap: its own sandbox, ``--die-with-parent``, its own process group). Its
  sandbox shows the environment (interpreter, venv, this installation) and one private, empty *slot*
  folder. The process (``python -m jupyter_aml.serving.warm``) imports the environment's heavy packages
  and blocks reading one line on stdin: first ``HEAVY`` (a measured list: numpy / scipy / pandas /
  scikit-learn / joblib, the ones importable there), then what the environment's replicas loaded of those
  packages while starting (``replica.heavy_modules`` in their status file; ``WarmPool.learned``). It
  starts no thread of its own (a library may: OpenBLAS does; nothing forks, so that is harmless) and opens
  nothing but its pipes.
- ``WarmPool.take`` hands that process to a replica: the revision's files are hard-linked (copied across
  file systems) into the slot, and the replica's environment variables (``AZUREML_MODEL_DIR`` and the rest,
  paths rewritten from the revision folder to the slot) and config are written to its stdin. It replaces
  its ``os.environ`` with them and runs ``jupyter_aml.serving.replica.main`` as a cold replica would; its
  output goes to the revision's log from then on. A fresh idle process is started for the next replica.
- An idle process that dies is replaced (``_watch``), with a back-off when it keeps dying.

A replica that collects model data (``collect_model_data``) starts cold: its spool must sit in the
revision's folder, where the service harvests it. Docker replicas start as before (an idle container per
environment would need the revision's files mounted at creation, which is what makes it a new container).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import importlib
import importlib.util
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_aml.compute.runners import Runner
    from jupyter_aml.serving.backends import PreparedRevision

logger = logging.getLogger(__name__)
# What an idle process imports before any replica of its environment has said what it used (measured: these
# are ~1.5 s of a digits replica's 1.6-1.9 s start here; the rest of what a scoring script imports is small).
# After that, it imports what the environment's last warm replica had loaded of them (``replica.heavy_modules``).
HEAVY = ("numpy", "scipy", "pandas", "joblib", "sklearn", "sklearn.linear_model", "sklearn.ensemble",
         "sklearn.tree", "sklearn.pipeline", "sklearn.preprocessing")
# Variables that belong to one revision, not to its environment (they do not pick the idle process).
REVISION_VARS = frozenset({"AZUREML_MODEL_DIR", "AML_MODELS", "AZUREML_ENTRY_SCRIPT", "AML_SERVICE_NAME",
                           "AML_WORKSPACE"})
MAX_DEATHS_PER_MINUTE = 5
READY_FILE = "warm-ready.json"  # written by the idle process in its slot's writable folder once it has imported
TAKEN_FILE = "warm-taken.json"  # the ready file once the process is a replica


@dataclass
class Idle:
    proc: asyncio.subprocess.Process
    slot: Path
    wrapped: bool
    tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=40))
    early: list[str] = field(default_factory=list)  # output before it was taken: replayed into the log
    log: Callable[[str], None] | None = None
    pump: asyncio.Task[None] | None = None
    modules: list[str] = field(default_factory=list)  # what it imports ahead of need

    @property
    def ready(self) -> bool:
        """It has imported everything and waits (a process taken before that is still faster than a cold one)."""
        return (self.slot / "replicas" / READY_FILE).is_file()

    def write(self, line: str) -> None:
        if self.log is None:
            self.early.append(line)
            del self.early[:-40]
        else:
            self.log(line)


def environment_key(prepared: PreparedRevision) -> str:
    """What makes two revisions start the same idle process: the interpreter, its variables, what it sees."""
    env = {k: v for k, v in prepared.env.items() if k not in REVISION_VARS}
    body = json.dumps([prepared.extra["python"], sorted(env.items()), sorted(_environment_paths(prepared))])
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _environment_paths(prepared: PreparedRevision) -> list[str]:
    """The read-only folders a replica sees that belong to its environment, not to its revision's models."""
    models = {str(p) for p in prepared.extra.get("model_paths", ())}
    return [str(p) for p in prepared.extra.get("read_only", ()) if str(p) not in models]


def usable(prepared: PreparedRevision) -> bool:
    return prepared.replica_config.get("data_collection") is None


_POOLS: dict[tuple[Path, int], WarmPool] = {}


def pool_for(root: Path) -> WarmPool:
    """The pool of a serving root in the running event loop (launchers are made per rollout; the pool lasts)."""
    key = (root, id(asyncio.get_running_loop()))
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = WarmPool(root)
    return pool


async def close_pool(root: Path) -> None:
    """The service stops: its idle processes go (they would anyway, with their parent)."""
    pool = _POOLS.pop((root, id(asyncio.get_running_loop())), None)
    if pool is not None:
        await pool.close()


class WarmPool:
    """At most one idle, pre-imported replica process per environment (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root / "warm"
        self.idle: dict[str, Idle] = {}
        self.starting: dict[str, asyncio.Task[None]] = {}
        self.deaths: dict[str, list[float]] = {}
        self.learned: dict[str, list[str]] = {}  # per environment: what its last replica imported
        self.tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    def ensure(self, prepared: PreparedRevision, runner: Runner, work_root: Path | None) -> None:
        """Start the idle process of ``prepared``'s environment unless one is there or on its way."""
        if self.closed or not usable(prepared):
            return
        key = environment_key(prepared)
        if key in self.idle or key in self.starting:
            return
        task = asyncio.ensure_future(self._spawn(key, prepared, runner, work_root))
        self.starting[key] = task
        task.add_done_callback(lambda _t: self.starting.pop(key, None))

    async def _spawn(self, key: str, prepared: PreparedRevision, runner: Runner, work_root: Path | None,
                     delay: float = 0.0) -> None:
        from jupyter_aml.serving.backends import _ignore_sigterm, _pump

        if delay:
            await asyncio.sleep(delay)
        if self.closed:
            return
        slot = self.root / f"{key}-{time.monotonic_ns()}"
        state = slot / "replicas"
        state.mkdir(parents=True, mode=0o700)
        env = {k: v for k, v in prepared.env.items() if k not in REVISION_VARS}
        env_ro = [Path(p) for p in _environment_paths(prepared)]
        modules = self.learned.get(key, list(HEAVY))
        how = runner.launch([prepared.extra["python"], "-m", "jupyter_aml.serving.warm", *modules], env,
                            run_dir=state, work_root=work_root or state, env_cache=state,
                            read_only=[slot, *env_ro], die_with_parent=True)
        proc = await asyncio.create_subprocess_exec(
            *how.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env=how.env, cwd=str(state), start_new_session=True,
            preexec_fn=_ignore_sigterm if how.ignore_sigterm else None)
        idle = Idle(proc, slot, how.ignore_sigterm, modules=modules)
        idle.pump = asyncio.ensure_future(_pump(proc.stdout, idle.tail, idle.write))
        if self.closed:
            _kill(idle)
            return
        self.idle[key] = idle
        watch = asyncio.ensure_future(self._watch(key, idle, prepared, runner, work_root))
        self.tasks.add(watch)
        watch.add_done_callback(self.tasks.discard)

    async def _watch(self, key: str, idle: Idle, prepared: PreparedRevision, runner: Runner,
                     work_root: Path | None) -> None:
        """An idle process that dies (killed, out of memory) is replaced, more slowly when it keeps dying."""
        await idle.proc.wait()
        if self.idle.get(key) is not idle or self.closed:
            return  # taken (it is a replica now: the manager watches it) or shut down
        del self.idle[key]
        shutil.rmtree(idle.slot, ignore_errors=True)
        now = time.time()
        deaths = self.deaths[key] = [t for t in self.deaths.get(key, []) if now - t < 60] + [now]
        logger.warning("the warm replica process of environment %s exited (%s); starting another", key,
                       " | ".join(list(idle.tail)[-3:]) or f"code {idle.proc.returncode}")
        if len(deaths) > MAX_DEATHS_PER_MINUTE:
            return  # replicas of this environment start cold until the next prepare asks again
        task = asyncio.ensure_future(self._spawn(key, prepared, runner, work_root, delay=0.2 * len(deaths)))
        self.starting[key] = task
        task.add_done_callback(lambda _t: self.starting.pop(key, None))

    async def take(self, prepared: PreparedRevision, runner: Runner, work_root: Path | None,
             env: dict[str, str], config: dict[str, Any], index: int,
             log: Callable[[str], None]) -> tuple[Idle, Path] | None:
        """Hand the idle process of ``prepared``'s environment the revision; None if there is none ready.

        Returns the process and its status file; a new idle process is started at once (it imports what the
        environment's replicas used so far; what this one adds is learnt in the background for the next)."""
        if self.closed or not usable(prepared):
            return None
        key = environment_key(prepared)
        pending = self.starting.get(key)
        if key not in self.idle and pending is not None:  # one is being started: however far, it beats cold
            await asyncio.wait({pending}, timeout=10)
        idle = self.idle.pop(key, None)
        if idle is None or idle.proc.returncode is not None or idle.proc.stdin is None:
            if idle is not None:
                shutil.rmtree(idle.slot, ignore_errors=True)
            self.ensure(prepared, runner, work_root)
            return None
        with contextlib.suppress(OSError):  # it is no longer idle
            (idle.slot / "replicas" / READY_FILE).rename(idle.slot / "replicas" / TAKEN_FILE)
        rev = idle.slot / "rev"
        try:
            await asyncio.to_thread(_link_tree, prepared.rev_dir, rev)  # a large model: not in the event loop
        except OSError as exc:  # e.g. the disk is full: this replica starts cold, the process goes
            logger.warning("could not hand the warm replica process its revision (%s); starting cold", exc)
            _kill(idle)
            shutil.rmtree(idle.slot, ignore_errors=True)
            return None
        old, new = str(prepared.rev_dir), str(rev)
        status = idle.slot / "replicas" / f"replica-{index}-{time.monotonic_ns()}.json"
        env = {k: v.replace(old, new) for k, v in env.items()}
        env["AML_REPLICA_STATUS"] = str(status)
        env["AML_REPLICA_CONFIG"] = env["AML_REPLICA_CONFIG"].replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
        config_cwd = str(config.get("source_dir", "")).replace(old, new)
        idle.log = log
        for line in idle.early:
            log(line)
        idle.early.clear()
        try:
            idle.proc.stdin.write(json.dumps({"env": env, "cwd": config_cwd}).encode() + b"\n")
            idle.proc.stdin.close()
        except (OSError, RuntimeError):
            _kill(idle)
            return None
        learn = asyncio.ensure_future(self._learn(key, status))
        self.tasks.add(learn)
        learn.add_done_callback(self.tasks.discard)
        refill = asyncio.ensure_future(self._spawn(key, prepared, runner, work_root))
        self.starting[key] = refill
        refill.add_done_callback(lambda _t: self.starting.pop(key, None))
        return idle, status

    def learn(self, prepared: PreparedRevision, status: Path) -> None:
        """A replica started cold: what it imports of ``replica.WARM_PACKAGES`` is imported ahead of the next."""
        if not self.closed and usable(prepared):
            task = asyncio.ensure_future(self._learn(environment_key(prepared), status, cold=True))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _learn(self, key: str, status: Path, *, cold: bool = False) -> None:
        """The environment's list grows by what a replica loaded beyond what it was given (a pre-imported module
        a script did not need cannot be told apart from one it used: a list only shrinks when the service
        restarts)."""
        for _ in range(150):  # init() may take a while (a large model)
            modules = _read_status(status).get("modules")
            if isinstance(modules, list):
                # A cold replica says all it needed; a warm one only what it added to what it was given
                known = set(self.learned.get(key, [] if cold else HEAVY))
                self.learned[key] = sorted(known | {str(m) for m in modules})
                return
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        self.closed = True
        for task in [*self.starting.values(), *self.tasks]:
            task.cancel()
        for idle in self.idle.values():
            _kill(idle)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(idle.proc.wait(), 5)
            shutil.rmtree(idle.slot, ignore_errors=True)
        self.idle.clear()


def _read_status(path: Path) -> dict[str, Any]:
    try:  # never through a link the replica put there
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW)) as handle:
            return dict(json.loads(handle.read()))
    except (OSError, ValueError, TypeError):
        return {}


def _kill(idle: Idle) -> None:
    import signal

    if idle.proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(idle.proc.pid, signal.SIGKILL)


def _link_tree(src: Path, dest: Path) -> None:
    """Copy a revision folder by hard links, following its links to the model cache (the slot must hold real
    files: the sandbox shows nothing else of the service's root)."""

    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.copytree(src, dest, symlinks=False, copy_function=link,
                    ignore=shutil.ignore_patterns("replicas", ".aml-ready"), dirs_exist_ok=True)


# -- the idle process -----------------------------------------------------------------------------------------
def main(argv: list[str]) -> None:
    """Import ``argv``'s modules (those importable here), then wait for the replica to become."""
    t0 = time.monotonic()
    loaded = []
    for name in argv:
        try:
            if importlib.util.find_spec(name.split(".")[0]) is None:
                continue
            importlib.import_module(name)
            loaded.append(name)
        except Exception as exc:  # a broken package: the scoring script will say so itself
            sys.stderr.write(f"[warm] could not import {name}: {type(exc).__name__}: {exc}\n")
    import jupyter_aml.serving.replica as replica

    replica.PRELOADED.update(replica.heavy_modules())  # the replica reports only what its script adds
    with open(READY_FILE, "w") as handle:  # in its own writable folder (the cwd): it waits, warm
        json.dump({"pid": os.getpid(), "imported": loaded, "seconds": round(time.monotonic() - t0, 3)}, handle)
    line = sys.stdin.buffer.readline()
    if not line:
        os._exit(0)  # the service let it go
    message = json.loads(line)
    with contextlib.suppress(OSError):
        fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(fd, 0)
        os.close(fd)
    os.environ.clear()
    os.environ.update(message["env"])
    os.environ["AML_WARM_REPLICA"] = "1"
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path.pop(0)  # ``-m`` put the idle process's own folder first; a cold replica has its source there
    if message.get("cwd"):
        os.chdir(message["cwd"])
    sys.stderr.write(f"[replica] started warm ({', '.join(loaded) or 'nothing'} imported in "
                     f"{time.monotonic() - t0:.2f} s ahead of need)\n")
    replica.main()


if __name__ == "__main__":
    main(sys.argv[1:])
