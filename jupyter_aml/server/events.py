"""The push channel: server-sent events fanned out from the service's event sink.

Services publish from worker threads; the hub hops onto the event loop before touching subscriber queues.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from jupyter_aml.server.base import AMLHandler, api

QUEUE_LIMIT = 10_000


@dataclass(eq=False)
class Subscriber:
    workspace: str
    run_ids: frozenset[str]
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))

    def wants(self, workspace: str, event: dict[str, Any]) -> bool:
        if workspace != self.workspace:
            return False
        if not self.run_ids:
            return True
        run_id = event.get("run_id") or event.get("run", {}).get("id")
        parent = event.get("run", {}).get("parent_id")
        return run_id in self.run_ids or parent in self.run_ids


class EventHub:
    """Bound to the server's event loop by the first subscriber (handlers run on that loop)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.subscribers: set[Subscriber] = set()

    def add(self, sub: Subscriber) -> None:
        self.loop = asyncio.get_running_loop()
        self.subscribers.add(sub)

    def publish(self, workspace: str, event: dict[str, Any]) -> None:
        """Thread-safe: callable from the store's worker threads."""
        if self.subscribers and self.loop is not None:
            self.loop.call_soon_threadsafe(self._deliver, workspace, event)

    def _deliver(self, workspace: str, event: dict[str, Any]) -> None:
        for sub in list(self.subscribers):
            if sub.wants(workspace, event):
                with contextlib.suppress(asyncio.QueueFull):  # a stalled client loses events, not memory
                    sub.queue.put_nowait(event)


class EventsHandler(AMLHandler):
    @api(
        "user",
        "Server-sent events: run status, log lines and metric points",
        content_type="text/event-stream",
        query=(("workspace", "string", "workspace name"), ("run_id", "string", "repeatable: only these runs")),
    )
    async def get(self) -> None:
        workspace = self.get_query_argument("workspace")
        hub: EventHub = self.settings["aml_events"]
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
                    event = await asyncio.wait_for(sub.queue.get(), timeout=15)
                    self.write(b"data: " + orjson.dumps(event) + b"\n\n")
                except asyncio.TimeoutError:
                    self.write(b": keep-alive\n\n")
                await self.flush()
        except Exception:  # client went away (StreamClosedError) or server shutting down
            pass
        finally:
            hub.subscribers.discard(sub)


ROUTES = [(r"/events", EventsHandler)]
