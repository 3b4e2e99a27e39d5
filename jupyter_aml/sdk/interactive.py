"""Interactive runs (``Experiment.start_logging``): the notebook process ships its own journal.

The same journal and shipper as submitted runs, so ``run.log`` stays non-blocking in a notebook too;
a heartbeat thread keeps the run from being marked NotResponding while the kernel lives.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_aml.errors import AMLError
from jupyter_aml.runtime.journal import JournalWriter

if TYPE_CHECKING:
    from jupyter_aml.agent.shipper import JournalShipper
    from jupyter_aml.sdk.run import Run

HEARTBEAT_SECONDS = 10.0


class InteractiveSession:
    def __init__(self, run: Run, journal: JournalWriter, shipper: JournalShipper, folder: Path) -> None:
        self.run_id = run.id
        self.folder = folder
        self._run = run
        self.journal = journal
        self.shipper = shipper
        self._stopped = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name="aml-heartbeat", daemon=True)
        self._beat.start()
        atexit.register(self.stop)

    def _heartbeat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(AMLError):  # the service may be restarting; the next beat will tell
                self._run._client.post(self._run._path("heartbeat"))

    def _acked(self) -> int:
        stream = self.shipper.streams.get(self.journal.stream_id)
        return stream.acked if stream else 0

    def flush(self, timeout_seconds: float = 300) -> None:
        deadline = time.monotonic() + timeout_seconds
        while self._acked() < self.journal.seq:
            if self.shipper.failed is not None:
                raise self.shipper.failed
            if time.monotonic() > deadline:
                raise AMLError(
                    f"{self.journal.seq - self._acked()} logged values were not acknowledged in "
                    f"{timeout_seconds:.0f} s",
                    hint="check that the workspace service is running",
                )
            time.sleep(0.02)

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        delivered = self.shipper.drain(time.monotonic() + 60)
        self.shipper.close()
        self.journal.close()
        if delivered:  # keep an undelivered journal on disk rather than lose it
            shutil.rmtree(self.folder, ignore_errors=True)
        atexit.unregister(self.stop)


def attach_shipper(run: Run) -> InteractiveSession:
    from jupyter_aml.agent.shipper import JournalShipper

    folder = Path(tempfile.mkdtemp(prefix="aml-interactive-"))
    path = folder / "journal" / "main.jsonl"
    journal = JournalWriter(path)
    shipper = JournalShipper(run._client, run._path("journal"), path).start()
    session = InteractiveSession(run, journal, shipper, folder)
    run._journal = journal
    run._shipper = session
    return session
