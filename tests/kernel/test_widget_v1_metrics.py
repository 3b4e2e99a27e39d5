"""RunDetails shows v1's metric values: text, bools and None in the table (never a chart), NaN by name, and
the confusion-matrix heatmap with its labels, the calibration chart, the residual histogram, the accuracy table."""

from __future__ import annotations

from jupyter_aml import Experiment
from jupyter_aml.widgets import RunDetails
from jupyter_aml.widgets.feed import wait_until
from jupyter_aml.widgets.v1_figures import figures_html

CM = {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
      "data": {"class_labels": ["cat", "dog", "bird"], "matrix": [[5, 1, 0], [2, 7, 1], [0, 0, 9]]}}
RES = {"schema_type": "residuals", "schema_version": "1.0.0",
       "data": {"bin_edges": [-1.0, 0.0, 1.0], "bin_counts": [3, 4]}}
PRED = {"schema_type": "predictions", "schema_version": "1.0.0",
        "data": {"bin_averages": [0.2, 0.7], "bin_errors": [0.01, 0.02], "bin_counts": [5, 6],
                 "bin_edges": [0.0, 0.5, 1.0]}}
ACC = {"schema_type": "accuracy_table", "schema_version": "1.0.0",
       "data": {"class_labels": ["0", "1"], "probability_thresholds": [0.0, 1.0], "percentile_thresholds": [0.0, 1.0],
                "probability_tables": [[[5, 5, 0, 0], [0, 0, 5, 5]], [[4, 4, 1, 1], [0, 0, 5, 5]]],
                "percentile_tables": [[[5, 5, 0, 0], [0, 0, 5, 5]]] * 2}}


def test_the_view_shows_every_kind_of_v1_value(workspace):
    run = Experiment(workspace, "widget-v1").start_logging()
    run.log("message", "Hello from run!")
    run.log("message", "second message")
    run.log("flag", False)
    run.log("nothing", None)
    run.log("diverged", float("nan"))
    run.log("loss", 1.0)
    run.log("loss", float("nan"))
    run.log("loss", 0.5)
    run.log_confusion_matrix("cm", CM)
    run.log_residuals("res", RES)
    run.log_predictions("pred", PRED)
    run.log_accuracy_table("acc", ACC)
    run.flush()
    view = RunDetails(run)
    try:
        assert wait_until(lambda: "Confusion matrix cm" in view.v1_html.value, 10), view.v1_html.value
        assert wait_until(lambda: view.trace_points("loss") == 3, 10)
        html = view.v1_html.value
        for label in ("cat", "dog", "bird"):
            assert f">{label}</th>" in html  # a row and a column header per class label
        assert html.count(">cat</th>") == 2
        assert "Calibration chart pred" in html and "Residual histogram res" in html
        assert 'aria-label="Residual histogram res"' in html and html.count("<rect") == 2
        assert "aml-accuracy-table" in html
        table = view.metrics_html.value
        assert "second message" in table and "False" in table  # the latest value, in the table
        assert ">None<" in table and ">NaN<" in table
        assert "message" not in view.figures and "flag" not in view.figures  # values, not charts
        assert view.figures["loss"].data[0].y[1] is None  # NaN is a gap in the chart
    finally:
        view.close()
        run.complete()


def test_figures_show_non_finite_cells_by_name():
    value = {**CM, "data": {"class_labels": ["a", "b"], "matrix": [[float("nan"), 1.0], [float("inf"), 0.0]]}}
    html = figures_html({"cm": ("confusion_matrix", value)})
    assert ">NaN</td>" in html and ">∞</td>" in html
