"""A HyperDrive run's "Child runs" tab in real Chromium: the parallel-coordinates chart of its children (one
axis per hyperparameter, one for the primary metric), following the sweep and complete when it ends.

``pytest -m browser tests/browser/test_hyperdrive.py``; ``AML_BROWSER_SCREENSHOTS=1`` also writes
docs/images/hyperdrive.png.
"""

from __future__ import annotations

import json
import re

import pytest

import jupyter_aml.sdk.hyperdrive as hd
from jupyter_aml import Experiment, ScriptRunConfig, Workspace
from tests.browser import seed
from tests.browser.conftest import Studio

pytestmark = pytest.mark.browser

WS = "hyperdrive-ui"
SCRIPT = """\
import argparse, time
from azureml.core import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--opt")
a = p.parse_args()
run = Run.get_context()
for i in range(3):
    run.log("accuracy", a.x + (0.05 if a.opt == "adam" else 0) + i / 100)
    time.sleep(0.3)
"""

# Whether the chart's canvas has anything drawn on it (a blank canvas is all transparent).
DRAWN = """(figure) => {
    const canvas = figure.querySelector('canvas');
    if (!canvas) { return 0; }
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { painted++; } }
    return painted;
}"""


def test_a_sweeps_children_tab_shows_their_parallel_coordinates(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab, WS)
    info = json.loads((lab.aml_root / "service.json").read_text())
    ws = Workspace(name=WS, service_url=info["url"], token=info["token"])
    folder = lab.root_dir / "hd-src"
    folder.mkdir(exist_ok=True)
    (folder / "train.py").write_text(SCRIPT)
    config = hd.HyperDriveConfig(
        run_config=ScriptRunConfig(folder, "train.py"),
        hyperparameter_sampling=hd.GridParameterSampling(
            {"--x": hd.choice(0.5, 0.8), "--opt": hd.choice("adam", "sgd")}),
        primary_metric_name="accuracy", primary_metric_goal=hd.PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=4, max_concurrent_runs=2)
    run = Experiment(ws, "hd-ui").submit(config)

    studio.run_command("aml:open-run", {"runId": run.id, "workspace": WS, "tab": "children"})
    # Drawn live: the first children's lines appear before the sweep ends, then all four.
    figure = page.get_by_role("img", name=re.compile(r"^Parallel coordinates of [1-4] child runs: --opt, --x"))
    figure.wait_for(timeout=120_000)
    assert run.wait_for_completion()["status"] == "Completed"
    figure = page.get_by_role("img", name="Parallel coordinates of 4 child runs: --opt, --x, accuracy")
    figure.wait_for(timeout=30_000)
    assert figure.get_attribute("data-lines") == "4"
    assert figure.evaluate(DRAWN) > 500, "the canvas has the axes and lines drawn"
    page.get_by_text("coloured by their best accuracy (higher is better").wait_for()
    tree = page.get_by_role("tree", name="Child runs")  # the children's tree is still there, below the chart
    assert tree.get_by_role("treeitem").count() == 4
    studio.shot("hyperdrive.png", readme=True)
