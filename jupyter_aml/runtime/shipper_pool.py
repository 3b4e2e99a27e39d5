"""One thread that ships the journals of many runs: a notebook's interactive runs share it.

A submitted run's agent ships one journal with a ``JournalShipper`` thread of its own. A notebook may start a
run after another (``start_logging()`` in a loop, a sweep driven by hand), and a thread per run was a thread
started and ended per run (issue 12). The pool keeps, for each shipper, when it is next due: at once while it
has more to send or a ``flush()`` poked it, after its idle interval when it has nothing, after its back-off
when the service is away; a fatal answer drops it (its ``failed`` says why, as with its own thread).

Steps of one shipper never overlap: the pool holds the shipper's ``_stepping`` lock while it steps it, and
``JournalShipper.stop()`` takes it from the pool and waits for a step in flight before ``drain()`` steps it
on the caller's thread.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_aml.runtime.shipper import JournalShipper

POKED = 0.0  # a due time that means "now": set by poke()


class ShipperPool:
    def __init__(self, name: str = "aml-journal-shippers") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._due: dict[JournalShipper, float] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, shipper: JournalShipper) -> None:
        """Ship ``shipper`` from now on. Its first step is due after its idle interval, not at once: a run just
        started has logged nothing yet, and a step at once would race its first values, shipping them apart
        from the ``complete()`` that could carry them (a ``flush()`` or a full batch still ships at once)."""
        with self._lock:
            self._due[shipper] = time.monotonic() + shipper.interval
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._wake.set()

    def poke(self, shipper: JournalShipper) -> None:
        """Step ``shipper`` as soon as the thread is free (a flush is waiting for what was just logged)."""
        with self._lock:
            if shipper in self._due:
                self._due[shipper] = POKED
        self._wake.set()

    def remove(self, shipper: JournalShipper) -> None:
        with self._lock:
            self._due.pop(shipper, None)
        self._wake.set()  # the thread re-reads the due times (and ends when none is left)

    def __contains__(self, shipper: object) -> bool:
        return shipper in self._due

    def __len__(self) -> int:
        return len(self._due)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._due:
                    self._thread = None  # the next add() starts a new thread
                    return
                now = time.monotonic()
                ready = [s for s, due in self._due.items() if due <= now]
                soonest = min(self._due.values())
            for shipper in ready:
                self._step(shipper)
            if not ready:
                self._wake.wait(max(0.0, soonest - time.monotonic()))
                self._wake.clear()

    def _step(self, shipper: JournalShipper) -> None:
        with shipper._stepping:
            with self._lock:
                if shipper not in self._due:
                    return  # stopped meanwhile
                self._due[shipper] = time.monotonic()  # not POKED: a poke during the step is seen after it
            try:
                result = shipper.step()
            except Exception as exc:  # one run's trouble must not stop the others' shipping
                shipper.on_warning(f"journal shipping round failed, will retry: {exc!r}")
                result = "retry"
        with shipper._progress:
            shipper._progress.notify_all()
        if result == "fatal":
            self.remove(shipper)
            return
        delay = 0.0 if result == "busy" else next(shipper._delays) if result == "retry" else shipper.interval
        with self._lock:
            if shipper in self._due and self._due[shipper] != POKED:
                self._due[shipper] = time.monotonic() + delay
