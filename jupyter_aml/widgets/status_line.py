"""The one-line status ``%aml_submit`` shows at once: "snapshotting… uploading n files… submitted run #N".

It is a plain display (``text/html`` + ``text/plain``) updated in place through its display id, not a widget:
it needs no ipywidgets or plotly, so it appears within milliseconds of Shift+Enter, while the live view's
imports still run in the background (widgets/preload.py).

The counts come from the submission's own REST calls: ``ProgressApi`` is the workspace's ``Api`` with the
snapshot's calls (which blobs are missing, each upload, the manifest, the run's creation) reported to the
line as they happen. Stdlib and IPython only.
"""

from __future__ import annotations

import html
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import Api

UPDATE_INTERVAL = 0.1  # seconds between two redraws of the line while files upload


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


def files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def fmt_bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


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


class ProgressApi(Api):
    """The workspace's ``Api`` (same transport), reporting a snapshot's steps to ``report(stage, text)``.

    Only the calls the submitting thread makes are reported: a live view's feed thread may share the
    transport, and its calls are not this submission's.
    """

    def __init__(self, api: Api, report: Callable[[str, str, bool], None]) -> None:
        super().__init__(api.http)
        self._report = report
        self._thread = threading.get_ident()
        self.files = 0
        self.to_upload = 0
        self.uploaded = 0
        self.upload_bytes = 0

    def _mine(self) -> bool:
        return threading.get_ident() == self._thread

    def missing_blobs(self, ws: str, hashes: Sequence[str]) -> list[str]:
        if self._mine():
            self.files = len(hashes)
            self._report("checking", f"snapshot: {files(len(hashes))} · asking the service which it lacks…",
                         True)
        missing = super().missing_blobs(ws, hashes)
        if self._mine():
            self.to_upload = len(missing)
            if missing:
                self._report("uploading", f"uploading {len(missing)} of {files(len(hashes))}…", True)
        return missing

    def put_blob(self, ws: str, sha256: str, *, data: bytes | None = None,
                 file: str | os.PathLike[str] | IO[bytes] | None = None, retry: int | None = None,
                 timeout: float | None = None) -> T.BlobInfo:
        answer = super().put_blob(ws, sha256, data=data, file=file, retry=retry, timeout=timeout)
        if self._mine():
            self.uploaded += 1
            self._report("uploading", f"uploading {files(self.to_upload)}… {self.uploaded}/{self.to_upload} sent",
                         self.uploaded == self.to_upload)
        return answer

    def create_snapshot(self, ws: str, body: T.SnapshotCreate) -> T.Snapshot:
        snap = super().create_snapshot(ws, body)
        if self._mine():
            uploaded = f", {self.uploaded} uploaded" if self.uploaded else ", none to upload"
            self._report("submitting", f"snapshot of {files(snap['file_count'])} ({fmt_bytes(snap['total_size'])}"
                         f"{uploaded}) · submitting…", True)
        return snap
