"""The run page shows v1's metric values: the confusion-matrix heatmap with its labels, the calibration chart,
the residual histogram, the accuracy table, and text / bool / None / NaN values by name in the values table."""

from __future__ import annotations

import pytest

from tests.browser import seed
from tests.browser.conftest import Studio

pytestmark = pytest.mark.browser

CM = {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
      "data": {"class_labels": ["cat", "dog", "bird"], "matrix": [[5, 1, 0], [2, 7, 1], [0, 0, 9]]}}
RES = {"schema_type": "residuals", "schema_version": "1.0.0",
       "data": {"bin_edges": [-1.0, 0.0, 1.0, 2.0], "bin_counts": [3, 4, 1]}}
PRED = {"schema_type": "predictions", "schema_version": "1.0.0",
        "data": {"bin_averages": [0.2, 0.7], "bin_errors": [0.01, 0.02], "bin_counts": [5, 6],
                 "bin_edges": [0.0, 0.5, 1.0]}}
ACC = {"schema_type": "accuracy_table", "schema_version": "1.0.0",
       "data": {"class_labels": ["0", "1"], "probability_thresholds": [0.0, 1.0], "percentile_thresholds": [0.0, 1.0],
                "probability_tables": [[[5, 5, 0, 0], [0, 0, 5, 5]], [[4, 4, 1, 1], [0, 0, 5, 5]]],
                "percentile_tables": [[[5, 5, 0, 0], [0, 0, 5, 5]]] * 2}}


def test_the_run_page_renders_v1_values(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    run = seed.interactive_run(lab, "v1-values")
    journal = seed.Journal(lab, run["id"])
    journal.add("m", "message", "Hello from run!")
    journal.add("m", "message", "second message")
    journal.add("m", "flag", True)
    journal.add("m", "nothing", None)
    journal.add("m", "diverged", "NaN", vt="f")
    for step, loss in enumerate((1.0, 0.5, 0.25)):
        journal.scalar("loss", loss, step)
    journal.add("cm", "cm", CM)
    journal.add("rs", "res", RES)
    journal.add("pr", "pred", PRED)
    journal.add("at", "acc", ACC)
    journal.flush()
    seed.set_status(lab, run["id"], "Completed")

    studio.run_command("aml:open-run", {"runId": run["id"], "workspace": "default", "tab": "metrics"})
    matrix = page.get_by_role("table", name="Confusion matrix cm")
    matrix.wait_for()
    for label in ("cat", "dog", "bird"):  # one row header and one column header per class label
        matrix.get_by_role("columnheader", name=label, exact=True).wait_for()
        matrix.get_by_role("rowheader", name=label, exact=True).wait_for()
    cell = matrix.get_by_role("cell", name="dog predicted as bird: 1")
    assert cell.inner_text() == "1"
    diagonal = matrix.get_by_role("cell", name="bird predicted as bird: 9")
    assert "color-mix" in (diagonal.get_attribute("style") or "")  # shaded by its share of the row

    page.get_by_role("img", name="Calibration chart pred").wait_for()
    histogram = page.get_by_role("img", name="Residual histogram res")
    histogram.wait_for()
    assert histogram.locator("rect").count() == 3
    page.get_by_role("img", name="ROC curve acc").wait_for()
    page.get_by_role("table", name="Accuracy table acc").wait_for()

    values = page.get_by_role("table", name="Single-value metrics")
    for name, shown in (("message", "second message"), ("flag", "True"), ("nothing", "None"), ("diverged", "NaN")):
        row = values.get_by_role("row", name=name)
        row.wait_for()
        assert shown in row.inner_text(), row.inner_text()
    assert page.get_by_role("img", name="Chart of message").count() == 0  # text is a value, not a chart
    page.get_by_role("img", name="Chart of loss: 3 points").wait_for()
    histogram.scroll_into_view_if_needed()
    studio.shot("v1-metric-values.png")
