"""How a run is named to people, the studio's way (src/format.ts ``runNumber``/``runShortName``): ``#4``, a child
``#4.1`` under its parent, ``#4 name``, ``Run #4 name``. A stdlib leaf shared by the CLI and the notebook views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def run_number(run: Mapping[str, Any]) -> str:
    """``#N`` (a child numbered under its parent: ``#4.1``) from a run record."""
    shown = run.get("display_number")
    if shown:
        text = str(shown)
        return text if text.startswith("#") else f"#{text}"
    number = run.get("number")
    return f"#{number}" if number is not None else ""


def run_short_name(run: Mapping[str, Any]) -> str:
    """``#N name`` or ``#N``, as the studio's ``runShortName`` (format.ts); the id when the run has no number."""
    name = run.get("display_name") or ""
    if name == run.get("id"):
        name = ""
    number = run_number(run)
    if not number:
        return str(name or run.get("id", ""))
    return f"{number} {name}" if name else number


def run_title(run: Mapping[str, Any]) -> str:
    """``Run #N name`` as the studio titles a run (its display name left out when it is the id)."""
    short = run_short_name(run)
    return f"Run {short}" if run_number(run) else short
