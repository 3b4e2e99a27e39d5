"""The one-line status ``%aml_submit`` shows at once: "snapshotting… uploading n files… submitted run #N".

It is a plain display (``text/html`` + ``text/plain``) updated in place through its display id, not a widget:
it needs no ipywidgets or plotly, so it appears within milliseconds of Shift+Enter, while the live view's
imports still run in the background (widgets/preload.py).

The counts come from the submission itself: ``Experiment.submit(progress=SnapshotReporter(...))`` tells each
snapshot step (the folder scanned, how many files are new to the service, each upload, the snapshot made) as it
happens. Stdlib and IPython only.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jupyter_aml.sizes import human_size

if TYPE_CHECKING:
    from jupyter_aml.sdk.submit import SnapshotProgress

UPDATE_INTERVAL = 0.1  # seconds between two redraws of the line while files upload


def files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"



class SubmitStatus:
    """A status line shown in the cell's output, updated in place; ``display=False`` prints the last only."""

    def __init__(self, *, display: bool = True) -> None:
        self._handle: Any = None
        self._display = display
        self._last = 0.0
        self._lock = threading.Lock()
        self.text = ""
        self.stage = ""
        self.history: list[tuple[str, str]] = []  # (stage, text) of each step, for tests and the final line

    def show(self, stage: str, text: str, *, force: bool = True) -> None:
        """Set the line; ``force=False`` skips a redraw that comes within UPDATE_INTERVAL of the last."""
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last < UPDATE_INTERVAL:
                self.stage, self.text = stage, text
                return
            self._last = now
            self.stage, self.text = stage, text
            self.history.append((stage, text))
            if not self._display:
                return
            bundle = self._bundle(stage, text)
            from IPython.display import display

            if self._handle is None:
                self._handle = display(bundle, raw=True, display_id=True)  # type: ignore[no-untyped-call]
            else:
                self._handle.update(bundle, raw=True)

    def flush(self) -> None:
        """Draw the latest text if a throttled update left it unshown."""
        if self.history and self.history[-1] != (self.stage, self.text):
            self.show(self.stage, self.text)

    @staticmethod
    def _bundle(stage: str, text: str) -> dict[str, str]:
        busy = stage not in ("submitted", "failed")
        colour = "var(--jp-error-color1, #d32f2f)" if stage == "failed" else "var(--jp-ui-font-color1, inherit)"
        mark = "⏳ " if busy else ("✖ " if stage == "failed" else "✔ ")
        return {
            "text/plain": text,
            "text/html": (
                f'<div class="jp-aml-SubmitStatus" data-stage="{html.escape(stage)}" role="status" '
                f'aria-live="polite" style="font-size:12px;color:{colour};padding:1px 0">'
                f"{mark}{html.escape(text)}</div>"
            ),
        }


class SnapshotReporter:
    """``Experiment.submit(progress=...)``'s callback: each snapshot step becomes the status line's text."""

    def __init__(self, report: Callable[[str, str, bool], None]) -> None:
        self._report = report

    def __call__(self, step: SnapshotProgress) -> None:
        if step.stage == "checking":
            self._report("checking", f"snapshot: {files(step.files)} · asking the service which it lacks…", True)
        elif step.stage == "uploading":
            self._report("uploading", f"uploading {step.to_upload} of {files(step.files)}…", True)
        elif step.stage == "uploaded":
            self._report("uploading", f"uploading {files(step.to_upload)}… {step.uploaded}/{step.to_upload} sent",
                         step.uploaded == step.to_upload)
        elif step.stage == "created":
            uploaded = f", {step.uploaded} uploaded" if step.uploaded else ", none to upload"
            self._report("submitting", f"snapshot of {files(step.files)} ({human_size(step.total_size)}"
                         f"{uploaded}) · submitting…", True)
