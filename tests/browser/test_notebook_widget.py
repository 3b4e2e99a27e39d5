"""A notebook cell with %%aml_submit in a real JupyterLab: the live widget's chart fills while the run runs."""

from __future__ import annotations

import json
import time

from tests.browser.conftest import Studio

CELLS = [
    "%load_ext jupyter_aml",
    "%%aml_submit -e widget-browser -n live\n"
    "import time\n"
    "from jupyter_aml import Run\n"
    "run = Run.get_context()\n"
    "for i in range(40):\n"
    "    run.log('loss', 1.0 / (i + 1), step=i)\n"
    "    time.sleep(0.25)\n",
]

POINTS = """() => {
    const plots = [...document.querySelectorAll('.jp-OutputArea .js-plotly-plot')];
    const plot = plots.find(p => (p.data || []).length);
    return plot ? plot.data[0].x.length : -1;
}"""


def test_aml_submit_cell_shows_a_widget_whose_chart_fills_while_running(studio: Studio) -> None:
    notebook = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": src, "outputs": [], "execution_count": None}
            for src in CELLS
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (studio.lab.root_dir / "widget.ipynb").write_text(json.dumps(notebook))
    studio.run_command("docmanager:open", {"path": "widget.ipynb"})
    page = studio.page
    page.get_by_role("tab", name="widget.ipynb").wait_for()
    page.get_by_text("%load_ext jupyter_aml").first.click()  # menu items need a focused cell after a cold start
    kernel_idle = "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'"
    studio.wait(lambda: page.evaluate(kernel_idle), timeout=90)
    studio.run_command("notebook:run-all-cells", {})

    # While the run is running, the chart gains points (pushed, not fetched at the end).
    seen: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        count = page.evaluate(POINTS)
        if count > 0 and (not seen or count != seen[-1]):
            seen.append(count)
        if count >= 40:
            break
        time.sleep(0.2)
    assert seen and seen[-1] == 40, f"chart point counts seen: {seen}"
    assert len([c for c in seen if 0 < c < 40]) >= 2, f"the chart did not fill progressively: {seen}"
    page.get_by_text("Completed").first.wait_for(timeout=60_000)
    runs = studio.lab.get("workspaces/default/runs", experiment="widget-browser")["items"]
    assert len(runs) == 1 and runs[0]["status"] == "Completed"
    studio.shot("widget.png", readme=True)
