"""Run status names: stdlib only, the one list that the core, the agent, the SDK, the CLI and the widgets read."""

from __future__ import annotations

RUN_STATUSES = (
    "Queued", "Preparing", "Starting", "Running", "Finalizing", "Completed", "Failed", "Canceled", "NotResponding",
)
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Canceled"})


def is_terminal(status: object) -> bool:
    """True for a status after which nothing more happens to a run (a str enum member counts as its value)."""
    return status in TERMINAL_STATUSES

# The studio's badge colour of each status: the JupyterLab theme variable style/base.css gives
# ``.jp-aml-status-<status>``, with the light theme's value as a fallback where no theme defines it (a notebook
# front end other than JupyterLab). The notebook widget draws its badges from this table;
# tests/widgets/test_widget_theme.py checks it against style/base.css.
STATUS_COLORS: dict[str, tuple[str, str]] = {
    "Queued": ("--jp-ui-font-color3", "#9e9e9e"),
    "Preparing": ("--jp-info-color1", "#0097a7"),
    "Starting": ("--jp-info-color1", "#0097a7"),
    "Running": ("--jp-brand-color1", "#1976d2"),
    "Finalizing": ("--jp-info-color0", "#006064"),
    "Completed": ("--jp-success-color1", "#388e3c"),
    "Failed": ("--jp-error-color1", "#d32f2f"),
    "Canceled": ("--jp-layout-color4", "#757575"),
    "NotResponding": ("--jp-warn-color1", "#f57c00"),
}
UNKNOWN_STATUS_COLOR = ("--jp-border-color1", "#bdbdbd")


def status_color(status: str) -> str:
    """The CSS colour of a status's badge: ``var(--jp-success-color1, #388e3c)``."""
    var, fallback = STATUS_COLORS.get(status, UNKNOWN_STATUS_COLOR)
    return f"var({var}, {fallback})"
