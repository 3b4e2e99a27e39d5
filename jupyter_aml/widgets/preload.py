"""Import the live view's heavy parts (ipywidgets, plotly, its figure classes) in a background thread.

``RunDetails`` needs ipywidgets and plotly, which take seconds to import the first time (plotly pulls in
nbformat and jsonschema; its figure classes load lazily on first use). ``%load_ext jupyter_aml`` starts that
import in a daemon thread, and ``%aml_submit`` starts it at the latest before it snapshots: the magic answers
at once, the snapshot runs while the import does, and the live view is ready when the run is submitted.

Stdlib only here: importing this module must cost nothing.
"""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()
_thread: threading.Thread | None = None
_error: Exception | None = None
_seconds: float | None = None


def _load() -> None:
    global _error, _seconds
    started = time.monotonic()
    try:
        # plotly imports nbformat, hence jsonschema, whose IRI format checker builds a parser on import (1-3 s of
        # the ~3 s here) for a format the view never checks: stand a placeholder in until it is used, as the
        # server start does (a stdlib module; it never replaces an imported module).
        from jupyter_aml.deferred_imports import defer_iri_checker

        defer_iri_checker()
        import jupyter_aml.widgets.run_details  # noqa: F401  (imports ipywidgets, plotly and warms plotly)
    except Exception as exc:  # ImportError (no ipywidgets/plotly), or a clash with an import of another thread
        _error = exc  # the magic imports again on its own thread, which raises the ImportError to report
    finally:
        _seconds = time.monotonic() - started


def start() -> threading.Thread:
    """Start the background import once (later calls return the same thread)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_load, name="aml-widgets-preload", daemon=True)
            _thread.start()
        return _thread


def wait(timeout: float | None = None) -> Exception | None:
    """Wait for the import; what it raised (an ImportError when ipywidgets or plotly is missing), else None."""
    start().join(timeout)
    return _error


def done() -> bool:
    """Whether the import has finished (successfully or not)."""
    return _thread is not None and not _thread.is_alive()


def seconds() -> float | None:
    """How long the background import took (None while it runs)."""
    return _seconds
