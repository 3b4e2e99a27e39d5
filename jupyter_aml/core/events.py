"""The push channel's source: services publish small event dicts; the server fans them out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Event = dict[str, Any]
EventSink = Callable[[str, Event], None]  # (workspace name, event)


def discard(_workspace: str, _event: Event) -> None:
    """Default sink when nothing listens (e.g. the CLI talking to the store directly)."""
