"""The first %%aml_submit of a fresh kernel answers at once: a status line within 0.5 s, the live view after.

Times are the kernel's own message timestamps (its "busy" status, then each output), so a slow test
client does not count; the widget stack (ipywidgets, plotly) imports in the background meanwhile.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import time
import uuid
from datetime import datetime
from typing import Any

import pytest

from jupyter_aml.run_names import run_number, run_short_name, run_title
from jupyter_aml.widgets.status_line import SubmitStatus
from tests.kernel.conftest import Kernel

WIDGET = "application/vnd.jupyter.widget-view+json"


def stamp(msg: dict[str, Any]) -> float:
    date = msg["header"]["date"]
    return (date if isinstance(date, datetime) else datetime.fromisoformat(str(date))).timestamp()


def outputs(kernel: Kernel, code: str, timeout: float = 120) -> tuple[float, list[tuple[float, str, dict]]]:
    """(the kernel's busy time, [(time, msg_type, content)] of every output of the cell)."""
    msg_id = kernel.kc.execute(code)
    busy = 0.0
    seen: list[tuple[float, str, dict]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kernel.kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "busy":
            busy = stamp(msg)
        elif kind == "status" and content["execution_state"] == "idle":
            return busy, seen
        elif kind in ("stream", "display_data", "update_display_data", "execute_result", "error"):
            seen.append((stamp(msg), kind, content))
    raise TimeoutError(code)


def test_first_submit_shows_its_status_line_within_half_a_second_then_the_live_view(kernel, workspace):
    (kernel.folder / "data.txt").write_text(uuid.uuid4().hex)  # content no workspace has seen: it is uploaded
    busy, loaded = outputs(kernel, "%load_ext jupyter_aml")
    assert not [o for o in loaded if o[1] == "error"], loaded
    cell = (f"%%aml_submit -w {workspace.name} -e feedback -n quick\n"
            "from jupyter_aml import Run\nRun.get_context().log('x', 1.0)\n")
    busy, seen = outputs(kernel, cell)
    assert not [o for o in seen if o[1] == "error"], seen

    lines = [(t, c) for t, kind, c in seen if kind in ("display_data", "update_display_data")
             and "text/html" in c["data"] and "jp-aml-SubmitStatus" in c["data"]["text/html"]]
    assert lines, seen
    first_at, first = lines[0]
    assert seen[0][2] is first, "the status line is the cell's first output"
    assert first_at - busy < 0.5, f"first output {first_at - busy:.3f} s after Shift+Enter"
    assert first["data"]["text/plain"].startswith(f"snapshotting {kernel.folder}")
    display_id = first["transient"]["display_id"]
    assert all(c["transient"]["display_id"] == display_id for _, c in lines[1:]), "one line, updated in place"

    texts = [c["data"]["text/plain"] for _, c in lines]
    stages = [c["data"]["text/html"].split('data-stage="')[1].split('"')[0] for _, c in lines]
    assert "uploading 2 of 2 files…" in texts, texts  # the cell's script and data.txt
    assert any(t.startswith("snapshot of 2 files") and t.endswith("· submitting…") for t in texts), texts
    for earlier, later in [("snapshotting", "uploading"), ("uploading", "submitting"), ("submitting", "opening")]:
        assert stages.index(earlier) < stages.index(later), stages
    assert stages[-1] == "submitted"
    assert texts[-1].startswith("Submitted run #1 (") and "to experiment 'feedback' on 'local'" in texts[-1]

    widget_at = next(t for t, kind, c in seen if kind == "display_data" and WIDGET in c["data"])
    opening_at = next(t for (t, _), s in zip(lines, stages, strict=True) if s == "opening")
    assert opening_at <= widget_at  # "submitted · opening the live view…" shows while the view's imports finish
    _, table = outputs(kernel, f"%aml_runs feedback -w {workspace.name}")
    html = next(c["data"]["text/html"] for _, kind, c in table if kind == "display_data")
    assert ">#1 quick<br>" in html  # runs are named "#N name" in tables too, as in the studio
    print(f"first output {first_at - busy:.3f} s, submitted {opening_at - busy:.3f} s, "
          f"live view {widget_at - busy:.3f} s after Shift+Enter")


def test_a_refused_submission_says_so_on_its_status_line(kernel, workspace):
    (kernel.folder / "train.py").write_text("print(1)\n")
    outputs(kernel, "%load_ext jupyter_aml")
    _, seen = outputs(kernel, f"%aml_submit train.py -w {workspace.name} -c nowhere")
    texts = [c["data"]["text/plain"] for _, kind, c in seen if kind.endswith("display_data")]
    assert texts[0].startswith("snapshotting")
    assert texts[-1].startswith("not submitted: %aml_submit: compute target 'nowhere' does not exist"), texts
    assert seen[-1][1] == "stream" and "UsageError" in seen[-1][2]["text"]  # IPython prints a UsageError


def test_run_titles_follow_the_studio() -> None:
    assert run_number({"number": 4}) == "#4"
    assert run_number({"number": 1, "display_number": "4.1"}) == "#4.1"  # a child numbered under its parent
    assert run_title({"id": "r1", "number": 3, "display_name": "lr=0.1"}) == "Run #3 lr=0.1"
    assert run_title({"id": "r1", "number": 3, "display_name": "r1"}) == "Run #3"  # the id is no name
    assert run_short_name({"id": "r1", "number": 3, "display_name": "lr=0.1"}) == "#3 lr=0.1"  # tables, children


def test_the_status_line_redraws_at_most_ten_times_a_second_and_keeps_the_last_text() -> None:
    status = SubmitStatus(display=False)
    status.show("uploading", "0/100")
    for i in range(1, 101):
        status.show("uploading", f"{i}/100", force=False)
    assert len(status.history) < 10 and status.text == "100/100"
    status.flush()
    assert status.history[-1] == ("uploading", "100/100")


def test_a_kernel_without_plotly_still_submits_and_says_why_there_is_no_live_view(kernel, workspace):
    outputs(kernel, "import sys; sys.modules['plotly'] = None")  # as if plotly were not installed
    outputs(kernel, "%load_ext jupyter_aml")
    _, seen = outputs(kernel, f"%%aml_submit -w {workspace.name} -e noplotly\nprint(1)\n")
    printed = "".join(c.get("text", "") for _, kind, c in seen if kind == "stream")
    assert "(plotly is not installed in this kernel: no live view" in printed, seen
    texts = [c["data"]["text/plain"] for _, kind, c in seen if kind.endswith("display_data")]
    assert texts[-1].startswith("Submitted run #1 ("), texts
    assert not [c for _, kind, c in seen if kind == "display_data" and WIDGET in c["data"]]


def test_the_background_import_leaves_jsonschemas_iri_parser_for_later() -> None:
    """plotly -> nbformat -> jsonschema builds rfc3987_syntax's parser on import (1-3 s): deferred, still correct."""
    pytest.importorskip("rfc3987_syntax")
    code = ("import sys\nfrom jupyter_aml.widgets import preload\nassert preload.wait() is None\n"
            "import plotly.graph_objects, nbformat\n"
            "print(type(sys.modules['rfc3987_syntax']).__name__, round(preload.seconds(), 2))\n"
            "from jsonschema import FormatChecker\n"
            "print(FormatChecker().conforms('http://example.com/a b', 'iri'))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first.split()[0] == "_DeferredModule", first
    assert second == "False"  # the IRI check itself still runs, with the real parser, on first use
    print("widget stack imported in the background in", first.split()[1], "s")
