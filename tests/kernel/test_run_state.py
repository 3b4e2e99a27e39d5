"""RunState, the widget's data model: catch-up and pushed events merge without loss or double counting."""

from __future__ import annotations

from jupyter_aml.widgets.state import LOG_LINES_KEPT, RunState


def metric_event(run_id, name, points):
    return {"type": "metric", "run_id": run_id, "name": name, "points": points}


def test_history_then_overlapping_events_count_each_point_once():
    st = RunState("r1")
    history = {"kind": "scalar", "total": 3, "downsampled": False,
               "steps": [0, 1, 2], "values": [1.0, 0.5, 0.25], "times": [10.0, 11.0, 12.0]}
    assert st.load_metric_history("loss", history) == {"metric:loss", "summary"}
    # the stream's queued event repeats the last point, then brings new ones (logged without a step: -1)
    changed = st.apply(metric_event("r1", "loss", [[-1, 0.25, 12.0], [-1, 0.2, 13.0], [-1, 0.1, 14.0]]))
    assert changed == {"metric:loss", "summary"}
    series = st.series["loss"]
    assert series.steps == [0, 1, 2, 3, 4] and series.values == [1.0, 0.5, 0.25, 0.2, 0.1]
    assert st.apply(metric_event("r1", "loss", [[-1, 0.1, 14.0]])) == set()  # a resent batch changes nothing
    assert st.load_metric_history("loss", {**history, "total": 5, "steps": [0, 1, 2, 3, 4],
                                           "values": [1.0, 0.5, 0.25, 0.2, 0.1],
                                           "times": [10.0, 11.0, 12.0, 13.0, 14.0]}) == set()
    assert st.point_count("loss") == 5
    assert st.apply(metric_event("other-run", "loss", [[0, 9.0, 20.0]])) == set()


def test_explicit_steps_nan_and_downsampled_history():
    st = RunState("r1")
    st.apply(metric_event("r1", "acc", [[5, 0.5, 1.0], [10, float("nan"), 2.0]]))
    assert st.series["acc"].steps == [5, 10] and st.series["acc"].values == [0.5, None]
    thinned = {"kind": "scalar", "total": 10_000, "downsampled": True,
               "steps": [0, 5000, 9999], "values": [1.0, 2.0, 3.0], "times": [1.0, 50.0, 99.0]}
    st.load_metric_history("big", thinned)
    assert st.series["big"].total == 10_000
    # points the thinned history covered (time <= 99) are not added again; later ones are, numbered on
    assert st.apply(metric_event("r1", "big", [[-1, 2.5, 60.0]])) == set()
    st.apply(metric_event("r1", "big", [[-1, 4.0, 100.0]]))
    assert st.series["big"].steps[-1] == 10_000 and st.series["big"].total == 10_001


def test_logs_children_files_and_status():
    st = RunState("root")
    assert not st.terminal
    st.load_run({"id": "root", "status": "Running"})
    lines = [{"id": i, "stream": "stdout", "ts": 0, "text": f"line {i}"} for i in range(1, 4)]
    assert st.load_logs(lines) == {"logs"}
    oops = {"id": 4, "stream": "stderr", "ts": 0, "text": "oops"}
    assert st.apply({"type": "log", "run_id": "root", "lines": [*lines[1:], oops]}) == {"logs"}
    assert [line["text"] for line in st.log_tail(2)] == ["line 3", "oops"] and st.last_log_id == 4
    st.load_logs([{"id": i, "stream": "stdout", "ts": 0, "text": "x"} for i in range(5, LOG_LINES_KEPT + 100)])
    assert len(st.logs) == LOG_LINES_KEPT and st.last_log_id == LOG_LINES_KEPT + 99

    child = {"id": "c1", "parent_id": "root", "status": "Running", "display_name": "C=1"}
    assert st.apply({"type": "run", "run": child}) == {"children"}
    assert st.apply({"type": "run", "run": {"id": "x", "parent_id": "elsewhere"}}) == set()
    st.load_summaries([{"run_id": "c1", "name": "acc", "kind": "scalar", "last_value": 0.9},
                       {"run_id": "root", "name": "curve", "kind": "row", "count": 3}])
    assert st.child_metrics == {"c1": {"acc": 0.9}}
    assert [r["name"] for r in st.metric_rows()] == ["curve"]
    assert st.apply({"type": "files", "run_id": "root", "paths": ["outputs/model.pkl"]}) == {"files"}
    assert st.load_files([{"path": "outputs/model.pkl", "size": 12}]) == {"files"}
    assert st.files == {"outputs/model.pkl": 12}

    assert st.apply({"type": "run", "run": {"id": "root", "status": "Completed"}}) == {"run"}
    assert st.terminal
