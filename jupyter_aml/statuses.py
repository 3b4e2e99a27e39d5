"""Run status names: stdlib only, the one list that the core, the agent, the SDK, the CLI and the widgets read."""

from __future__ import annotations

RUN_STATUSES = (
    "Queued", "Preparing", "Starting", "Running", "Finalizing", "Completed", "Failed", "Canceled", "NotResponding",
)
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Canceled"})


def is_terminal(status: object) -> bool:
    """True for a status after which nothing more happens to a run (a str enum member counts as its value)."""
    return status in TERMINAL_STATUSES
