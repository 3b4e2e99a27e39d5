"""Hand calls from worker threads to an event loop with one wake-up per burst, not one per call.

Services publish events from the store's worker threads, and each subscriber that lives on the loop used to
hop there with its own ``loop.call_soon_threadsafe``: a write to the loop's self-pipe and a loop wake-up per
event and subscriber. A run created, given ten metrics and completed is a dozen events, and those hops were
about a sixth of the service's busy time while runs were being created (issue 12). A relay queues the calls
and schedules one drain while the queue is not empty: everything queued before the drain runs in it, in
order, so no call is lost or reordered.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Callable
from typing import Any


class LoopRelay:
    """``relay(fn, *args)`` from any thread runs ``fn(*args)`` on ``loop``, in call order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._queue: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]] = collections.deque()
        self._scheduled = False
        self.wakeups = 0  # drains scheduled so far (how many hops the calls cost)

    def __call__(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            self._queue.append((fn, args))
            if self._scheduled:
                return  # the drain already scheduled runs this call too
            self._scheduled = True
            self.wakeups += 1
        try:
            self.loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop has closed: nobody is left to run the calls
            with self._lock:
                self._queue.clear()
                self._scheduled = False

    def _drain(self) -> None:
        with self._lock:
            calls = list(self._queue)
            self._queue.clear()
            self._scheduled = False
        for fn, args in calls:
            try:
                fn(*args)
            except Exception as exc:  # as a failing callback of its own would be: reported, the others still run
                self.loop.call_exception_handler({"message": f"relayed call {fn!r} failed", "exception": exc})
