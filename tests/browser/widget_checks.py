"""What the live-widget browser tests read from the page, in JupyterLab and in Notebook 7.

Colours are read as the browser computes them: the theme's own variables from ``body`` and the colours the
widget's badge and plotly charts are drawn in, so a chart that stays white in the dark theme fails.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_aml.statuses import STATUS_COLORS


# The %%aml_submit cell of the widget tests: two metrics logged with the later name first (the widget shows
# them in the studio's order, by name), slowly enough that the run is still going while the tests look.
def submit_cell(experiment: str, name: str, steps: int = 30, pause: float = 0.2) -> str:
    return (
        f"%%aml_submit -e {experiment} -n {name}\n"
        "import time\n"
        "from jupyter_aml import Run\n"
        "run = Run.get_context()\n"
        f"for i in range({steps}):\n"
        "    run.log('zeta_loss', 1.0 / (i + 1), step=i)\n"
        f"    run.log('alpha_acc', i / {steps}, step=i)\n"
        f"    time.sleep({pause})\n"
    )


def notebook_json(cells: list[str]) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": src, "outputs": [], "execution_count": None}
                  for src in cells],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    })


# Resolve a CSS colour (a variable's value, "var(...)" or a name) to the browser's rgb() form.
_RGB = """(value) => {
    const probe = document.createElement('span');
    probe.style.color = value;
    document.body.appendChild(probe);
    const rgb = getComputedStyle(probe).color;
    probe.remove();
    return rgb;
}"""

WIDGET_COLOURS = """() => {
    const rgb = RGB;
    const vars = VARS;
    const body = getComputedStyle(document.body);
    const view = document.querySelector('.jp-aml-run-details');
    if (!view) { return null; }
    const plots = [...view.querySelectorAll('.js-plotly-plot')];
    const titles = plots.map(p => (p.querySelector('.gtitle') || {}).textContent || '');
    const plot = plots[0];
    const text = plot ? plot.querySelector('.main-svg text') : null;
    const badge = view.querySelector('.jp-aml-StatusBadge');
    const dot = badge ? badge.querySelector('.jp-aml-StatusBadge-dot') : null;
    const header = view.querySelector('b');
    return {
        light: document.body.dataset.jpThemeLight,
        themeText: rgb(body.getPropertyValue('--jp-ui-font-color1').trim()),
        themeBackground: rgb(body.getPropertyValue('--jp-layout-color0').trim()),
        chartText: text ? getComputedStyle(text).fill : null,
        chartPaper: plot ? getComputedStyle(plot.querySelector('.main-svg')).backgroundColor : null,
        chartTitles: titles,
        header: header ? header.textContent : null,
        status: badge ? badge.dataset.status : null,
        badgeDot: dot ? getComputedStyle(dot).backgroundColor : null,
        statusVar: badge ? rgb(`var(${vars[badge.dataset.status]})`) : null,
    };
}""".replace("RGB", _RGB).replace("VARS", json.dumps({s: v for s, (v, _) in STATUS_COLORS.items()}))

# The submit status line: its text and stage, or null before it appears.
STATUS_LINE = """() => {
    const line = document.querySelector('.jp-aml-SubmitStatus');
    return line ? {text: line.textContent, stage: line.dataset.stage} : null;
}"""

# Start watching for the status line before Shift+Enter; WATCH_RESULT then says how long it took to appear
# and the status badge of the run's view at that moment (none yet, or not a final one).
WATCH_STATUS_LINE = """() => {
    window.__amlStatus = null;
    const started = performance.now();
    const seen = () => {
        const line = document.querySelector('.jp-aml-SubmitStatus');
        if (line && !window.__amlStatus) {
            const badge = document.querySelector('.jp-aml-run-details .jp-aml-StatusBadge');
            window.__amlStatus = {ms: performance.now() - started, text: line.textContent,
                                  runStatus: badge ? badge.dataset.status : null};
        }
    };
    new MutationObserver(seen).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""
WATCH_RESULT = "() => window.__amlStatus"


def assert_follows_theme(colours: dict[str, Any], light: bool) -> None:
    """The chart's text is the theme's text colour, its paper transparent, the badge in the studio's colour."""
    assert colours["light"] == ("true" if light else "false"), colours
    assert colours["chartText"] == colours["themeText"], colours
    assert colours["chartPaper"] in ("rgba(0, 0, 0, 0)", "transparent"), colours
    assert colours["badgeDot"] == colours["statusVar"], colours


def luminance(rgb: str) -> float:
    """0 (black) .. 255 (white) of an ``rgb(r, g, b)`` string."""
    parts = [float(p) for p in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    return 0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2]
