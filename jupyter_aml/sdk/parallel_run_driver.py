"""The driver of a ParallelRunStep's run (sdk/pipeline_parallel.py), run by every process of the step.

Each process (global ``RANK`` of ``WORLD_SIZE``, laid out by the agent as for a PyTorch job) loads the
entry script, calls its ``init()``, and then asks rank 0 for mini-batches until told to stop. Rank 0 also
coordinates: it splits the inputs into mini-batches (``mini_batch_size`` files of the FileDataset folders,
or ranges of rows of about ``mini_batch_size`` bytes of the TabularDatasets) and serves them on
``MASTER_ADDR:MASTER_PORT`` (JSON lines over TCP), one to whichever process asks, so a slow mini-batch holds
no other up. A process reports each mini-batch's result with its next request; rank 0 appends an
``append_row`` result's rows to ``<output>/<append_row_file_name>`` (v1's row format: a list's elements one
a line, a DataFrame's rows space-separated), gives a failed mini-batch (``run`` raised, or ran past
``run_invocation_timeout``) another try up to ``run_max_try``, and counts failed items: every item of a
mini-batch that failed its last try, and the items a ``run`` returned no result for. Past
``error_threshold`` (or ``allowed_failed_count`` mini-batches, or ``allowed_failed_percent``) it stops
handing out work and the step fails with the count and the first error. Stdlib only at import; pandas only
for TabularDatasets.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import importlib.util
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

SETTINGS = "aml_parallel_run.json"
CONNECT_SECONDS = 120.0  # how long a process waits for rank 0's coordinator to listen
log = logging.getLogger("parallel_run")


def say(text: str) -> None:
    print(f"[parallel_run] {text}", flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aml_parallel_run.py")
    p.add_argument("--aml-input", action="append", default=[], help="a FileDataset's folder (repeatable)")
    p.add_argument("--aml-tabular", action="append", default=[], help="a TabularDataset input's name (repeatable)")
    p.add_argument("--aml-output", default=None, help="the step's output folder")
    return p


# -- the mini-batches ---------------------------------------------------------------------------------------
def file_batches(folders: list[str], size: int) -> list[list[list[Any]]]:
    """Every file of the input folders (sorted), ``size`` to a mini-batch, each item [folder index, path]."""
    items: list[list[Any]] = []
    for index, folder in enumerate(folders):
        root = Path(folder)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        items += [[index, str(p.relative_to(root)) if p != root else ""] for p in files]
    return [items[i:i + size] for i in range(0, len(items), size)]


def row_batches(rows: int, row_bytes: float, size: int) -> list[list[int]]:
    """Ranges [start, stop) of about ``size`` bytes each (at least one row)."""
    per = max(1, int(size // max(row_bytes, 1.0)))
    return [[start, min(rows, start + per)] for start in range(0, rows, per)]


def load_tabular(names: list[str]) -> Any:
    import pandas as pd

    from jupyter_aml.sdk.run import Run

    datasets = Run.get_context().input_datasets
    frames = [datasets[name].to_pandas_dataframe() for name in names]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def as_rows(result: Any) -> tuple[int, list[str]]:
    """How many results ``run`` returned and their rows, or TypeError for anything but a list or DataFrame."""
    if isinstance(result, (list, tuple)):
        return len(result), [str(item) for item in result]
    if type(result).__name__ == "DataFrame" and hasattr(result, "to_csv"):
        text = result.to_csv(sep=" ", header=False, index=False)
        return len(result), [line for line in text.splitlines() if line]
    raise TypeError(f"run(mini_batch) returned {type(result).__name__}: return a list or a pandas DataFrame, "
                    "one element per input item it processed")


# -- rank 0: the coordinator --------------------------------------------------------------------------------
class Coordinator:
    """Hands mini-batches out and keeps the counts; every method runs under ``lock``."""

    def __init__(self, batches: list[Any], sizes: list[int], settings: dict[str, Any], out_file: Path | None,
                 world: int) -> None:
        self.batches, self.sizes, self.settings, self.out_file, self.world = batches, sizes, settings, out_file, world
        self.pending = collections.deque(range(len(batches)))
        self.tries: collections.Counter[int] = collections.Counter()
        self.inflight: dict[int, int] = {}
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.told_stop: set[int] = set()
        self.succeeded = self.failed_batches = self.failed_items = self.rows = 0
        self.first_error: str | None = None
        self.first_where: list[Any] | None = None  # the first failure's innermost frame: file, line, function
        self.abort: str | None = None
        if out_file is not None:
            out_file.parent.mkdir(parents=True, exist_ok=True)
            out_file.write_text("")
        if not batches:
            self.finished.set()

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            rank = int(message["rank"])
            if message.get("done") is not None:
                self._result(int(message["done"]), message)
            if self.abort is None and self.pending:
                task = self.pending.popleft()
                self.tries[task] += 1
                self.inflight[task] = rank
                return {"task": task, "items": self.batches[task]}
            self.told_stop.add(rank)
            return {"stop": True}

    def lost(self, rank: int) -> None:
        """A process's connection dropped: its mini-batch goes back to the queue (the run fails anyway if
        the process exited badly: the agent fails the run on a rank's bad exit)."""
        with self.lock:
            for task, owner in list(self.inflight.items()):
                if owner == rank:
                    del self.inflight[task]
                    self.pending.appendleft(task)

    def _result(self, task: int, message: dict[str, Any]) -> None:
        self.inflight.pop(task, None)
        s = self.settings
        if message.get("ok"):
            self.succeeded += 1
            count, rows = int(message.get("results") or 0), list(message.get("rows") or [])
            self.failed_items += max(0, self.sizes[task] - count)
            if rows and self.out_file is not None:
                with self.out_file.open("a", encoding="utf-8") as f:
                    f.write("".join(row + "\n" for row in rows))
                self.rows += len(rows)
        elif self.tries[task] < int(s["run_max_try"]):
            say(f"mini-batch {task} failed (try {self.tries[task]} of {s['run_max_try']}); trying it again")
            self.pending.append(task)
        else:
            self.failed_batches += 1
            self.failed_items += self.sizes[task]
            if self.first_error is None:
                self.first_error, self.first_where = str(message.get("error") or ""), message.get("where")
        self._check()
        if not self.pending and not self.inflight:
            self.finished.set()

    def _check(self) -> None:
        s, why = self.settings, None
        threshold, count = int(s["error_threshold"]), s.get("allowed_failed_count")
        if threshold != -1 and self.failed_items > threshold:
            why = f"{self.failed_items} failed items is more than error_threshold={threshold}"
        elif count is not None and count != -1 and self.failed_batches > int(count):
            why = f"{self.failed_batches} failed mini-batches is more than allowed_failed_count={count}"
        if why and self.abort is None:
            self.abort = why
            self.finished.set()

    def verdict(self) -> str | None:
        """Why the step fails, or None."""
        percent = self.settings.get("allowed_failed_percent")
        if self.abort is None and percent is not None and self.batches \
                and 100.0 * self.failed_batches / len(self.batches) > float(percent):
            self.abort = (f"{self.failed_batches} of {len(self.batches)} mini-batches failed: more than "
                          f"allowed_failed_percent={percent:g}")
        return self.abort

    def serve(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        rank = -1
        with conn, conn.makefile("rb") as reader:
            for line in reader:
                message = json.loads(line)
                rank = int(message["rank"])
                reply = self.handle(message)
                try:
                    conn.sendall((json.dumps(reply) + "\n").encode())
                except OSError:
                    break
                if reply.get("stop"):
                    return
        if rank >= 0:
            self.lost(rank)


# -- every rank: the worker ---------------------------------------------------------------------------------
class _Timeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Any:
    """``run`` past ``run_invocation_timeout`` raises (this runs in the process's main thread)."""
    def expire(signum: int, frame: Any) -> None:
        raise _Timeout(f"run(mini_batch) ran past run_invocation_timeout={seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_entry(path: str, argv: list[str]) -> Any:
    sys.argv = [path, *argv]
    sys.path.insert(0, str(Path(path).resolve().parent))
    spec = importlib.util.spec_from_file_location("entry_script", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"entry_script {path!r} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise AttributeError(f"entry_script {path!r} has no run(mini_batch) function")
    return module


def connect(address: tuple[str, int]) -> socket.socket:
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        try:
            return socket.create_connection(address, timeout=None)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def work(rank: int, address: tuple[str, int], entry: Any, settings: dict[str, Any], inputs: list[str],
         tabular: list[str]) -> None:
    """Ask for mini-batches and run them until told to stop."""
    frame: Any = None
    timeout = float(settings["run_invocation_timeout"])
    append = settings["output_action"] == "append_row"
    with connect(address) as conn, conn.makefile("rb") as reader:
        message: dict[str, Any] = {"rank": rank, "done": None}
        while True:
            conn.sendall((json.dumps(message) + "\n").encode())
            line = reader.readline()
            if not line:
                say(f"rank {rank}: the coordinator is gone; stopping")
                return
            reply = json.loads(line)
            if reply.get("stop"):
                return
            task, items = int(reply["task"]), reply["items"]
            started = time.monotonic()
            try:
                if tabular:
                    frame = load_tabular(tabular) if frame is None else frame
                    batch: Any = frame.iloc[items[0]:items[1]]
                else:
                    batch = [os.path.join(inputs[i], rel) if rel else inputs[i] for i, rel in items]
                with time_limit(timeout):
                    result = entry.run(batch)
                count, rows = as_rows(result)
                message = {"rank": rank, "done": task, "ok": True, "results": count, "rows": rows if append else []}
                say(f"rank {rank}: mini-batch {task} ({len(batch)} items) done in {time.monotonic() - started:.2f} s")
            except (Exception, SystemExit) as exc:  # the entry script's failure is the mini-batch's, not the process's
                text = "".join(traceback.format_exception(exc)[-6:]).strip()
                frames = traceback.extract_tb(exc.__traceback__)
                where = [frames[-1].filename, frames[-1].lineno, frames[-1].name] if frames else None
                message = {"rank": rank, "done": task, "ok": False, "error": f"{type(exc).__name__}: {exc}",
                           "where": where}
                print(f"[parallel_run] rank {rank}: mini-batch {task} failed:\n{text}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    own, _, user = (argv[:argv.index("--")], None, argv[argv.index("--") + 1:]) if "--" in argv else (argv, None, [])
    args = _parser().parse_args(own)
    settings = json.loads(Path(SETTINGS).read_text(encoding="utf-8"))
    logging.basicConfig(level=settings.get("logging_level", "INFO"))
    os.environ.update(settings.get("environment_variables") or {})
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    host, port = os.environ.get("MASTER_ADDR", "127.0.0.1"), int(os.environ.get("MASTER_PORT", "0"))
    coordinator, server = None, None
    if rank == 0:
        coordinator, server, port = _coordinate(args, settings, world, port)
    entry = load_entry(settings["entry_script"], user)
    if callable(getattr(entry, "init", None)):
        entry.init()
    try:
        work(rank, ("127.0.0.1" if rank == 0 else host, port), entry, settings, args.aml_input, args.aml_tabular)
    finally:
        if callable(getattr(entry, "shutdown", None)):
            entry.shutdown()
    if coordinator is None or server is None:
        return 0
    coordinator.finished.wait()
    deadline = time.monotonic() + 10.0  # let the other processes hear "stop" before the coordinator goes
    while len(coordinator.told_stop) < world and coordinator.abort is None and time.monotonic() < deadline:
        time.sleep(0.05)
    server.close()
    return _report(coordinator, settings, args.aml_output, world)


def _coordinate(args: argparse.Namespace, settings: dict[str, Any], world: int,
                port: int) -> tuple[Coordinator, socket.socket, int]:
    size = int(settings["mini_batch_size"])
    if args.aml_tabular:
        frame = load_tabular(args.aml_tabular)
        row_bytes = float(frame.memory_usage(index=False, deep=True).sum()) / max(len(frame), 1)
        batches: list[Any] = row_batches(len(frame), row_bytes, size)
        sizes = [stop - start for start, stop in batches]
    else:
        batches = file_batches(args.aml_input, size)
        sizes = [len(b) for b in batches]
    out_file = Path(args.aml_output) / settings["append_row_file_name"] \
        if args.aml_output and settings["output_action"] == "append_row" else None
    coordinator = Coordinator(batches, sizes, settings, out_file, world)
    server = socket.create_server(("", port), reuse_port=False)
    port = server.getsockname()[1]
    threading.Thread(target=coordinator.serve, args=(server,), daemon=True).start()
    say(f"{sum(sizes)} items in {len(batches)} mini-batches for {world} processes")
    return coordinator, server, port


def _report(c: Coordinator, settings: dict[str, Any], output: str | None, world: int) -> int:
    why = c.verdict()
    where = f"; {c.rows} rows appended to {settings['append_row_file_name']}" if c.out_file is not None else ""
    say(f"{len(c.batches)} mini-batches ({sum(c.sizes)} items) over {world} processes: {c.succeeded} succeeded, "
        f"{c.failed_batches} failed, {c.failed_items} failed items{where}")
    if why is None:
        return 0
    first = f"; the first error: {c.first_error}" if c.first_error else ""
    # A one-frame traceback at the first failure's frame: the agent reads it for the run's error headline.
    file, line, function = c.first_where or (settings["entry_script"], 1, "run")
    print(f'Traceback (most recent call last):\n  File "{file}", line {line}, in {function}\n'
          f"ParallelRunStepError: {why}{first}", file=sys.stderr, flush=True)
    return 1
