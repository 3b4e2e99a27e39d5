"""A notebook cell with %%aml_submit in a real JupyterLab: the status line at once, then the live widget, whose
charts fill while the run runs, in the studio's order and in the theme's colours, light and dark."""

from __future__ import annotations

import time

from tests.browser.conftest import Studio
from tests.browser.widget_checks import (
    WATCH_RESULT,
    WATCH_STATUS_LINE,
    WIDGET_COLOURS,
    assert_follows_theme,
    luminance,
    notebook_json,
    submit_cell,
)

POINTS = """() => {
    const plots = [...document.querySelectorAll('.jp-OutputArea .js-plotly-plot')];
    const plot = plots.find(p => (p.data || []).length);
    return plot ? plot.data[0].x.length : -1;
}"""
NO_SPLASH = "() => !document.querySelector('#jupyterlab-splash')"
THEME = "([theme]) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})"


def test_aml_submit_cell_shows_a_widget_whose_chart_fills_while_running(studio: Studio) -> None:
    (studio.lab.root_dir / "widget.ipynb").write_text(
        notebook_json(["%load_ext jupyter_aml", submit_cell("widget-browser", "live", steps=40, pause=0.25)]))
    studio.run_command("docmanager:open", {"path": "widget.ipynb"})
    page = studio.page
    page.get_by_role("tab", name="widget.ipynb").wait_for()
    page.get_by_text("%load_ext jupyter_aml").first.click()  # menu items need a focused cell after a cold start
    kernel_idle = "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'"
    studio.wait(lambda: page.evaluate(kernel_idle), timeout=90)
    page.evaluate(WATCH_STATUS_LINE)
    studio.run_command("notebook:run-all-cells", {})

    # The status line shows while the run has not ended (no view yet, or a view of a run still going).
    seen = studio.wait(lambda: page.evaluate(WATCH_RESULT), timeout=30, interval=0.05)
    assert seen["runStatus"] in (None, "Queued", "Preparing", "Starting", "Running"), seen
    assert "snapshot" in seen["text"] or "uploading" in seen["text"], seen

    # While the run is running, the chart gains points (pushed, not fetched at the end).
    counts: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        count = page.evaluate(POINTS)
        if count > 0 and (not counts or count != counts[-1]):
            counts.append(count)
        if count >= 40:
            break
        time.sleep(0.2)
    assert counts and counts[-1] == 40, f"chart point counts seen: {counts}"
    assert len([c for c in counts if 0 < c < 40]) >= 2, f"the chart did not fill progressively: {counts}"
    page.locator(".jp-aml-run-details .jp-aml-StatusBadge[data-status='Completed']").wait_for(timeout=60_000)
    runs = studio.lab.get("workspaces/default/runs", experiment="widget-browser")["items"]
    assert len(runs) == 1 and runs[0]["status"] == "Completed"

    colours = page.evaluate(WIDGET_COLOURS)
    assert colours["header"] == f"Run #{runs[0]['number']} live", colours
    assert colours["chartTitles"] == ["alpha_acc", "zeta_loss"], colours  # the studio's order, not the log's
    assert_follows_theme(colours, light=True)
    assert luminance(colours["chartText"]) < 128
    studio.shot("widget.png", readme=True)
    try:
        page.evaluate(THEME, ["JupyterLab Dark"])
        studio.wait(lambda: page.evaluate("() => document.body.dataset.jpThemeLight") == "false")
        dark = studio.wait(lambda: (c := page.evaluate(WIDGET_COLOURS)) and c["chartText"] != colours["chartText"]
                           and c)
        assert_follows_theme(dark, light=False)
        assert luminance(dark["chartText"]) > 128  # the charts do not stay white: light text on the dark theme
        studio.wait(lambda: page.evaluate(NO_SPLASH))  # JupyterLab shows its splash while a theme loads
        studio.shot("widget-dark.png", readme=True)
    finally:  # the lab's settings outlive this test: the next test starts in the light theme again
        page.evaluate(THEME, ["JupyterLab Light"])
        studio.wait(lambda: page.evaluate("() => document.body.dataset.jpThemeLight") == "true")
