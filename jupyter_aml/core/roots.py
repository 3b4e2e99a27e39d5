"""Where a workspace service keeps its data by default. Stdlib only: the SDK imports it too."""

from __future__ import annotations

import os
from pathlib import Path


def default_root() -> Path:
    """``$JUPYTER_AML_ROOT``, else ``$XDG_DATA_HOME/jupyter-aml`` (``~/.local/share/jupyter-aml``)."""
    env = os.environ.get("JUPYTER_AML_ROOT")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "jupyter-aml"
