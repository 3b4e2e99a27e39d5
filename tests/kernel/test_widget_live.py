"""RunDetails follows a live run through the push channel: catch-up, points within 1 s, no leaked thread."""

from __future__ import annotations

import threading
import time

from jupyter_aml import Experiment, Run
from jupyter_aml.widgets import RunDetails
from jupyter_aml.widgets.feed import wait_until
from tests.kernel.conftest import Kernel

THREAD_PREFIX = "aml-run-"  # the feed thread (aml-run-feed-ID) and a pending redraw (aml-run-view-ID)


def feed_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


def test_view_catches_up_then_shows_each_acknowledged_point_within_a_second(workspace):
    client = workspace._client
    run = Experiment(workspace, "live").start_logging()
    for i in range(5):
        run.log("loss", 1 / (i + 1))
    run.log("final", 3.0)
    run.flush()
    client.post(run._path("logs"), {"lines": [{"text": "logged before the view opened"}]})

    connections = len(client._all)  # the REST connections this process's threads hold open
    view = RunDetails(run)
    assert wait_until(lambda: view.trace_points("loss") == 5, 10), "catch-up from REST"
    assert view.feed.connected.wait(5)
    assert "logged before the view opened" in view.logs_html.value
    assert "final" not in view.figures and ">final<" in view.metrics_html.value  # one value: a table row

    before = view.feed.events_received
    lags = []
    for i in range(5, 15):
        run.log("loss", 1 / (i + 1), step=i)
        run.flush()  # returns once the service acknowledged the point
        acked = time.monotonic()
        assert wait_until(lambda i=i: view.trace_points("loss") == i + 1, 1.0), f"point {i} not shown in 1 s"
        lags.append(time.monotonic() - acked)
        time.sleep(0.05)
    assert view.feed.events_received - before >= 10  # each point was pushed, not fetched
    fig = view.figures["loss"]
    assert list(fig.data[0].x) == list(range(15)) and fig.data[0].y[-1] == 1 / 15
    assert max(lags) < 1.0

    client.post(run._path("logs"), {"lines": [{"text": "pushed log line"}]})
    assert wait_until(lambda: "pushed log line" in view.logs_html.value, 1.0)
    child = run.child_run("C=10")
    child.log("accuracy", 0.875)
    child.complete()
    assert wait_until(lambda: "C=10" in view.children_html.value and "0.875" in view.children_html.value, 3)
    assert view.alive

    thread = view.feed.thread
    run.complete()
    assert view.wait(5), "the feed ends with the run, and the view shows the final state"
    assert not thread.is_alive()
    assert view.state.status == "Completed" and "Completed" in view.header.value
    assert view.feed.finished.is_set() and not view.feed.connected.is_set()  # the push channel is closed too
    assert len(client._all) <= connections  # and the feed thread's REST connection
    assert wait_until(lambda: not [t for t in feed_threads() if run.id in t.name], 1.0)


def test_close_stops_the_feed_at_once_and_renders_nothing_more(workspace):
    run = Experiment(workspace, "close").start_logging()
    connections = len(workspace._client._all)
    view = RunDetails(run)
    assert view.feed.connected.wait(10)
    thread = view.feed.thread
    assert thread in feed_threads()
    started = time.monotonic()
    view.widget.close()  # closing the outer widget stops the feed, as RunDetails.close() does
    assert wait_until(lambda: not thread.is_alive(), 1.0)
    assert time.monotonic() - started < 1.0
    assert len(workspace._client._all) <= connections  # the feed's connections are closed with it
    renders = view.render_count
    run.log("x", 1.0)
    run.log("x", 2.0)
    run.flush()
    time.sleep(0.3)
    assert view.render_count == renders and view.trace_points("x") == 0
    assert run.get_status() == "Running"  # closing the view does not touch the run
    run.complete()


def test_finished_and_unknown_runs_need_no_thread(workspace):
    run = Experiment(workspace, "done").start_logging()
    run.log("a", 1.0)
    run.log("a", 2.0)
    run.complete()
    view = RunDetails(run)
    assert view.wait(10) and not view.alive
    assert view.trace_points("a") == 2 and "Completed" in view.header.value

    ghost = RunDetails(Run(Experiment(workspace, "done"), "no-such-run"))
    assert ghost.wait(10) and not ghost.alive
    assert "not found" in ghost.header.value


def test_widget_in_a_kernel_gains_points_while_the_run_runs(kernel: Kernel, workspace):
    assert kernel.run("%load_ext jupyter_aml").status == "ok"
    body = (  # waits for the test's "go" tag, so a slow machine cannot finish it before the test watches
        "import time\nfrom jupyter_aml import Run\nrun = Run.get_context()\n"
        "while 'go' not in run.get_tags():\n    time.sleep(0.1)\n"
        "for i in range(16):\n    run.log('loss', 1 / (i + 1), step=i)\n    time.sleep(0.3)\n"
    )
    reply = kernel.run(f"%%aml_submit -w {workspace.name} -e live-kernel\n{body}")
    assert reply.status == "ok", reply.text
    run_id = kernel.value("_.id")
    assert kernel.run("_view = get_ipython().magics_manager.registry['AMLMagics'].views[-1]").status == "ok"
    run = Run.get(workspace, run_id)
    client = workspace._client

    service_seen: list[tuple[float, int, str]] = []  # (when, points acknowledged by the service, status)
    widget_seen: list[tuple[float, int]] = []  # (when, points on the kernel's FigureWidget trace)
    run.tag("go")
    deadline = time.monotonic() + 90
    status = "Queued"
    while status not in ("Completed", "Failed", "Canceled") and time.monotonic() < deadline:
        asked = time.monotonic()
        status = client.get(run._path())["status"]
        metrics = {m["name"]: m["count"] for m in client.get(run._path("metrics"))["items"]}
        service_seen.append((asked, int(metrics.get("loss", 0)), status))
        shown = kernel.value("_view.trace_points('loss')")
        widget_seen.append((time.monotonic(), shown))
        time.sleep(0.05)
    assert status == "Completed", (run.get_details()["error"], [line["text"] for line in run.get_logs()[-15:]])

    while_running = {shown for (_, shown), (_, _, st) in zip(widget_seen, service_seen, strict=True)
                     if st == "Running" and shown > 0}
    assert len(while_running) >= 4, while_running  # the chart grew step by step during the run
    lags = []
    for asked, count, _ in service_seen:
        if count < 2:  # a chart appears with the second point
            continue
        shown_at = next((t for t, shown in widget_seen if t >= asked and shown >= count), None)
        assert shown_at is not None, f"{count} acknowledged points never shown"
        lags.append(shown_at - asked)
    assert lags and max(lags) < 1.0, f"slowest: {max(lags):.2f} s"

    assert kernel.value("_view.trace_points('loss')") == 16
    names = "[t.name for t in __import__('threading').enumerate() if t.name.startswith('aml-run-')]"
    assert wait_until(lambda: kernel.value(names) == [], 5), "the feed thread ended with the run"

    # a view of a run that is still running stops its thread when its widget is closed
    other = Experiment(workspace, "live-kernel").start_logging()
    opened = kernel.run(
        "from jupyter_aml import Run, Workspace\nfrom jupyter_aml.widgets import RunDetails\n"
        f"_other = RunDetails(Run.get(Workspace.get({workspace.name!r}), {other.id!r}))\n"
        "_other.show()\nassert _other.feed.connected.wait(10)"
    )
    assert opened.status == "ok", opened.text
    assert f"aml-run-feed-{other.id}" in kernel.value(names)
    assert kernel.run("_other.widget.close()").status == "ok"
    assert wait_until(lambda: kernel.value(names) == [], 1.0)
    other.complete()
