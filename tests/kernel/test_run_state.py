"""RunState, the widget's data model: catch-up and pushed events merge without loss or double counting.

Metric points carry the step the service stored and are merged by their index in the series
(``MetricEvent.total``): nothing is renumbered on the client.
"""

from __future__ import annotations

from jupyter_aml.widgets.state import LOG_LINES_KEPT, RunState


def metric_event(run_id, name, total, steps, values, times):
    return {"type": "metric", "run_id": run_id, "name": name, "total": total,
            "steps": steps, "values": values, "times": times}


def history(name, total, steps, values, times, *, downsampled=False):
    return {"run_id": "r1", "name": name, "kind": "scalar", "total": total, "downsampled": downsampled,
            "steps": steps, "values": values, "times": times}


def run(run_id, status, **extra):
    return {"id": run_id, "status": status, **extra}


def test_history_then_overlapping_events_count_each_point_once():
    st = RunState("r1")
    assert st.load_metric_history(history("loss", 3, [0, 1, 2], [1.0, 0.5, 0.25], [10.0, 11.0, 12.0])) == {
        "metric:loss", "summary"}
    # the stream's queued event repeats the last point (index 2), then brings points 3 and 4 with the
    # steps the service assigned
    changed = st.apply(metric_event("r1", "loss", 5, [2, 3, 4], [0.25, 0.2, 0.1], [12.0, 13.0, 14.0]))
    assert changed == {"metric:loss", "summary"}
    series = st.series["loss"]
    assert series.steps == [0, 1, 2, 3, 4] and series.values == [1.0, 0.5, 0.25, 0.2, 0.1]
    assert st.apply(metric_event("r1", "loss", 5, [4], [0.1], [14.0])) == set()  # a resent batch changes nothing
    assert st.load_metric_history(history("loss", 5, [0, 1, 2, 3, 4], [1.0, 0.5, 0.25, 0.2, 0.1],
                                          [10.0, 11.0, 12.0, 13.0, 14.0])) == set()  # an older read neither
    assert st.point_count("loss") == 5 and series.complete
    assert st.apply(metric_event("other-run", "loss", 1, [0], [9.0], [20.0])) == set()


def test_steps_are_the_servers_nan_is_none_and_a_downsampled_history_counts_on():
    st = RunState("r1")
    # two points logged at the same time with the same value are still two points (merged by index)
    st.apply(metric_event("r1", "acc", 3, [5, 10, 10], [0.5, None, None], [1.0, 2.0, 2.0]))
    assert st.series["acc"].steps == [5, 10, 10] and st.series["acc"].values == [0.5, None, None]
    thinned = history("big", 10_000, [0, 5000, 9999], [1.0, 2.0, 3.0], [1.0, 50.0, 99.0], downsampled=True)
    st.load_metric_history(thinned)
    assert st.series["big"].total == 10_000 and st.point_count("big") == 3
    # points the thinned history covered (index < 10 000) are not added again; later ones are, with their step
    assert st.apply(metric_event("r1", "big", 10_000, [9999], [3.0], [99.0])) == set()
    st.apply(metric_event("r1", "big", 10_001, [10_000], [4.0], [100.0]))
    assert st.series["big"].steps[-1] == 10_000 and st.series["big"].total == 10_001


def test_an_event_past_a_gap_marks_the_series_for_a_history_read():
    st = RunState("r1")
    st.load_metric_history(history("loss", 2, [0, 1], [1.0, 0.9], [1.0, 2.0]))
    st.apply(metric_event("r1", "loss", 6, [4, 5], [0.5, 0.4], [5.0, 6.0]))  # points 2 and 3 never arrived
    summary = {"run_id": "r1", "name": "loss", "kind": "scalar", "count": 6}
    assert not st.series["loss"].complete and st.needs_history(summary)
    full = history("loss", 6, [0, 1, 2, 3, 4, 5], [1.0, 0.9, 0.7, 0.6, 0.5, 0.4], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert st.load_metric_history(full) == {"metric:loss", "summary"}
    assert st.series["loss"].steps == [0, 1, 2, 3, 4, 5] and not st.needs_history(summary)


def test_logs_children_files_and_status():
    st = RunState("root")
    assert not st.terminal
    st.load_run(run("root", "Running"))
    lines = [{"id": i, "stream": "stdout", "ts": 0, "text": f"line {i}"} for i in range(1, 4)]
    assert st.load_logs(lines) == {"logs"}
    oops = {"id": 4, "stream": "stderr", "ts": 0, "text": "oops"}
    assert st.apply({"type": "log", "run_id": "root", "lines": [*lines[1:], oops]}) == {"logs"}
    assert [line["text"] for line in st.log_tail(2)] == ["line 3", "oops"] and st.last_log_id == 4
    st.load_logs([{"id": i, "stream": "stdout", "ts": 0, "text": "x"} for i in range(5, LOG_LINES_KEPT + 100)])
    assert len(st.logs) == LOG_LINES_KEPT and st.last_log_id == LOG_LINES_KEPT + 99

    child = run("c1", "Running", parent_id="root", display_name="C=1")
    assert st.apply({"type": "run", "run": child}) == {"children"}
    assert st.apply({"type": "run", "run": run("x", "Running", parent_id="elsewhere")}) == set()
    st.load_summaries([{"run_id": "c1", "name": "acc", "kind": "scalar", "last_value": 0.9},
                       {"run_id": "root", "name": "curve", "kind": "row", "count": 3}])
    assert st.child_metrics == {"c1": {"acc": 0.9}}
    assert st.apply(metric_event("c1", "acc", 2, [1], [0.95], [3.0])) == {"children"}  # a child's pushed point
    assert st.child_metrics == {"c1": {"acc": 0.95}}
    assert [r["name"] for r in st.metric_rows()] == ["curve"]
    assert st.apply({"type": "files", "run_id": "root", "paths": ["outputs/model.pkl"]}) == {"files"}
    assert st.load_files([{"path": "outputs/model.pkl", "size": 12}]) == {"files"}
    assert st.files == {"outputs/model.pkl": 12}
    assert st.apply({"type": "model", "action": "registered", "name": "m", "version": 1}) == set()

    assert st.apply({"type": "run", "run": run("root", "Completed")}) == {"run"}
    assert st.terminal
