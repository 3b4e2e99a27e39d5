"""The push channel: server-sent events fanned out from the service's event sink.

Services publish from worker threads; the hub hops onto the event loop before touching subscriber queues.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from jupyter_aml.core.events import AMLEvent, Event, RunEvent
from jupyter_aml.core.loop_relay import LoopRelay
from jupyter_aml.server.base import AMLHandler, api

QUEUE_LIMIT = 10_000


@dataclass(eq=False)
class Subscriber:
    workspace: str
    run_ids: frozenset[str]
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))

    def wants(self, workspace: str, event: Event) -> bool:
        """Workspace events all reach a workspace subscriber; a run subscriber gets its runs and their children."""
        if workspace != self.workspace:
            return False
        if not self.run_ids:
            return True
        if isinstance(event, RunEvent):
            return event.run.id in self.run_ids or event.run.parent_id in self.run_ids
        run_id = getattr(event, "run_id", None)  # model and web service events name no run
        return run_id in self.run_ids


def encode(event: Event) -> bytes:
    """One SSE message: the event's JSON as a ``data:`` line."""
    return b"data: " + event.model_dump_json().encode() + b"\n\n"


class EventHub:
    """Bound to the server's event loop by the first subscriber (handlers run on that loop)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.subscribers: set[Subscriber] = set()
        self._relay: LoopRelay | None = None

    def add(self, sub: Subscriber) -> None:
        self.loop = asyncio.get_running_loop()
        self.subscribers.add(sub)

    def publish(self, workspace: str, event: Event) -> None:
        """Thread-safe: callable from the store's worker threads."""
        loop = self.loop
        if self.subscribers and loop is not None:
            relay = self._relay
            if relay is None or relay.loop is not loop:  # a burst of events is one hop onto the loop
                relay = self._relay = LoopRelay(loop)
            relay(self._deliver, workspace, event)

    def _deliver(self, workspace: str, event: Event) -> None:
        message: bytes | None = None  # serialised once, for the first subscriber that wants it
        for sub in list(self.subscribers):
            if sub.wants(workspace, event):
                message = message or encode(event)
                with contextlib.suppress(asyncio.QueueFull):  # a stalled client loses events, not memory
                    sub.queue.put_nowait(message)


class EventsHandler(AMLHandler):
    @api(
        "user",
        "Server-sent events: run status, log lines and metric points",
        returns=AMLEvent,
        content_type="text/event-stream",
        query=(("workspace", "string", "workspace name"), ("run_id", "string", "repeatable: only these runs")),
        action="runs/read",
    )
    async def get(self) -> None:
        workspace = self.get_query_argument("workspace")
        hub = self.app.events
        sub = Subscriber(workspace=workspace, run_ids=frozenset(self.query_list("run_id")))
        hub.add(sub)
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        try:
            self.write(b": connected\n\n")
            await self.flush()
            while True:
                try:
                    self.write(await asyncio.wait_for(sub.queue.get(), timeout=15))
                except asyncio.TimeoutError:
                    self.write(b": keep-alive\n\n")
                await self.flush()
        except Exception:  # client went away (StreamClosedError) or server shutting down
            pass
        finally:
            hub.subscribers.discard(sub)


ROUTES = [(r"/events", EventsHandler)]
