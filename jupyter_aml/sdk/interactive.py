"""Interactive runs (``Experiment.start_logging``): the notebook process ships its own journal.

The same journal, shipper and heartbeat as submitted runs (all from ``jupyter_aml.runtime``), so
``run.log`` stays non-blocking in a notebook too. The heartbeat keeps the run from being marked
NotResponding while the kernel lives, and when its answer says the run ended elsewhere (canceled from
the studio, REST or ``aml run cancel``) the session stops: what was logged before is delivered, and
later ``run.log`` calls raise ``RunCanceledError`` instead of filling a journal nobody reads.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_aml.errors import AMLError
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime import env as E
from jupyter_aml.runtime.heartbeat import Heartbeat, HeartbeatPool
from jupyter_aml.runtime.journal import JournalWriter
from jupyter_aml.runtime.shipper import JournalShipper
from jupyter_aml.runtime.shipper_pool import ShipperPool

if TYPE_CHECKING:
    from jupyter_aml.sdk.run import Run

HEARTBEAT_SECONDS = 10.0
CANCEL_DRAIN_SECONDS = 10.0
HEARTBEATS = HeartbeatPool("aml-interactive-heartbeats")  # every interactive run of this process
SHIPPERS = ShipperPool("aml-interactive-shippers")  # their journals: one thread, not one per run


def _heartbeat_seconds() -> float:
    try:
        return float(os.environ.get(E.HEARTBEAT_INTERVAL) or HEARTBEAT_SECONDS)
    except ValueError:
        return HEARTBEAT_SECONDS


def _say(message: str) -> None:
    print(f"[aml] {message}", file=sys.stderr, flush=True)


class InteractiveSession:
    def __init__(self, run: Run, journal: JournalWriter, shipper: JournalShipper, folder: Path) -> None:
        self.run_id = run.id
        self.folder = folder
        self.journal = journal
        self.shipper = shipper
        self.ended: str | None = None  # set when the service said the run ended without us
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        # the run was created Running with its first beat: the next one is due after an interval, and a
        # beat at once would be one more round trip per start_logging()
        # beaten by the process's one heartbeat thread (HEARTBEATS), not a thread of its own per run
        self.heartbeat = Heartbeat(run._api, run._ws, run.id, _heartbeat_seconds(), self._end_in_background,
                                   on_warning=_say, beat_at_start=False)
        HEARTBEATS.add(self.heartbeat)
        atexit.register(self.stop)

    def _end_in_background(self, reason: str) -> None:
        """Heard on the shared heartbeat thread: the drain that follows must not hold up other runs' beats."""
        threading.Thread(target=self._ended_elsewhere, args=(reason,), name="aml-session-end", daemon=True).start()

    def _ended_elsewhere(self, reason: str) -> None:
        """The heartbeat heard a final status we did not set: stop logging into this run."""
        if self._stopped.is_set():
            return
        self.ended = reason
        _say(f"run {self.run_id}: {reason}; logging into it has stopped (run.log now raises RunCanceledError)")
        self._shutdown(time.monotonic() + CANCEL_DRAIN_SECONDS)

    def _acked(self) -> int:
        stream = self.shipper.streams.get(self.journal.stream_id)
        return stream.acked if stream else 0

    def flush(self, timeout_seconds: float = 300) -> None:
        if self.ended is not None:
            return  # nothing more is delivered to a run that ended elsewhere
        seq = self.journal.seq
        if seq and not self.shipper.wait_acked(self.journal.stream_id, seq, time.monotonic() + timeout_seconds):
            raise AMLError(
                f"{seq - self._acked()} logged values were not acknowledged in {timeout_seconds:.0f} s",
                hint="check that the workspace service is running",
            )

    def finish(self, report: Callable[[T.JournalBatch | None], T.Run], timeout_seconds: float = 300) -> T.Run:
        """End the session with a final status: ``report(journal)`` sends it, carrying the records not yet
        acknowledged when they fit one batch, so ``complete()`` is one request instead of a flush and a
        status report. Anything else (more than a batch, a refusal, the service away) takes the old way:
        every record shipped and acknowledged by the journal route first, then ``report(None)``."""
        self.shipper.stop()  # the loop's batch in flight ends first; nothing is sent behind our back now
        tail = self.shipper.last_batch()
        answer: T.Run | None = None
        if tail is not None and tail[1]:
            stream, batch = tail
            journal: T.JournalBatch = {"stream": stream,
                                       "records": [json.loads(raw) for _, raw in batch]}
            try:
                answer = report(journal)
            except AMLError:
                answer = None  # nothing is lost: the records are still on disk and pending; ship them below
            else:
                self.shipper.acknowledge(stream, batch[-1][0])
        if answer is None:
            if (tail is None or tail[1]) and not self.shipper.drain(time.monotonic() + timeout_seconds):
                if self.shipper.failed is not None:
                    raise self.shipper.failed
                raise AMLError(f"{self.shipper.pending} logged values were not acknowledged in "
                               f"{timeout_seconds:.0f} s", hint="check that the workspace service is running")
            answer = report(None)
        self.stop()
        return answer

    def stop(self) -> None:
        self._shutdown(time.monotonic() + 60)

    def _shutdown(self, deadline: float) -> None:
        with self._lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
        self.heartbeat.stop()
        HEARTBEATS.remove(self.heartbeat)
        delivered = self.shipper.drain(deadline)
        self.shipper.close()
        self.journal.close()
        if delivered:  # keep an undelivered journal on disk rather than lose it
            shutil.rmtree(self.folder, ignore_errors=True)
        atexit.unregister(self.stop)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()


def attach_shipper(run: Run) -> InteractiveSession:
    folder = Path(tempfile.mkdtemp(prefix="aml-interactive-"))
    path = folder / "journal" / "main.jsonl"
    journal = JournalWriter(path)
    shipper = JournalShipper(run._api, run._ws, run.id, path).start(SHIPPERS)
    session = InteractiveSession(run, journal, shipper, folder)
    run._journal = journal
    run._shipper = session
    return session
