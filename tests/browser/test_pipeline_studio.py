"""Pipelines in the studio, in a real JupyterLab, light and dark: a 3-step pipeline submitted through the SDK
(``prep`` writes a PipelineData that ``train`` reads; ``report`` runs after ``train``) appears in the sidebar's
Pipelines section with its step count; its run page's Graph tab draws the 3 steps and both edges, marks the
steps reused by a second submission, follows the running step live (push channel only: the tests' lab does not
poll) and opens a step's run on click.

``pytest -m browser tests/browser/test_pipeline_studio.py``; ``AML_BROWSER_SCREENSHOTS=1`` also writes
docs/images/studio-pipeline-*.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from azureml.core import Experiment
from azureml.pipeline.core import Pipeline, PipelineData, PipelineParameter
from azureml.pipeline.steps import PythonScriptStep
from playwright.sync_api import expect

from jupyter_aml import Workspace
from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.test_data_panels import close_toasts, set_theme
from tests.browser.test_models_endpoints import open_section

pytestmark = pytest.mark.browser

WS = "pipeline-ui"
PREP = """
import argparse, os
p = argparse.ArgumentParser(); p.add_argument("--out"); a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
open(os.path.join(a.out, "rows.txt"), "w").write("1 2 3")
"""
TRAIN = """
import argparse, os
p = argparse.ArgumentParser(); p.add_argument("--data"); a = p.parse_args()
print("mean", sum(int(x) for x in open(os.path.join(a.data, "rows.txt")).read().split()) / 3)
"""
REPORT = """
import argparse, time
p = argparse.ArgumentParser(); p.add_argument("--pause", type=float); a = p.parse_args()
time.sleep(a.pause)
print("report done")
"""


def sdk_workspace(studio: Studio) -> Workspace:
    info = json.loads((studio.lab.aml_root / "service.json").read_text())
    return Workspace(WS, service_url=info["url"], token=info["token"])


def pipeline(ws: Workspace, src: Path) -> Pipeline:
    prepared = PipelineData("prepared")
    pause = PipelineParameter("pause", default_value=0.0)
    prep = PythonScriptStep("prep.py", name="prep", arguments=["--out", prepared], outputs=[prepared],
                            source_directory=str(src), compute_target="local")
    train = PythonScriptStep("train.py", name="train", arguments=["--data", prepared], inputs=[prepared],
                             source_directory=str(src), compute_target="local")
    report = PythonScriptStep("report.py", name="report", arguments=["--pause", pause],
                              source_directory=str(src), compute_target="local")
    report.run_after(train)
    return Pipeline(ws, steps=[prep, train, report], description="prep, train, report")


def shots(studio: Studio, name: str) -> None:
    close_toasts(studio)
    studio.shot(f"studio-pipeline-{name}.png", readme=True)
    set_theme(studio, "JupyterLab Dark")
    studio.shot(f"studio-pipeline-{name}-dark.png", readme=True)
    set_theme(studio, "JupyterLab Light")


def test_pipeline_runs_in_the_sidebar_and_their_graph(studio: Studio, tmp_path: Path) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab, WS)
    ws = sdk_workspace(studio)
    src = tmp_path / "src"
    src.mkdir()
    for name, body in (("prep.py", PREP), ("train.py", TRAIN), ("report.py", REPORT)):
        (src / name).write_text(body)
    steps = pipeline(ws, src)
    first = Experiment(ws, "pipes-ui").submit(steps, pipeline_parameters={"pause": 0.0})
    assert first.wait_for_completion(show_output=False) == "Completed"

    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    section = open_section(sidebar, "Pipelines")
    runs = section.get_by_role("list", name="Pipeline runs")
    row = runs.locator(f"[data-run-id='{first.id}']")
    expect(row).to_contain_text("3/3 steps")
    expect(row.locator("[data-status='Completed']")).to_have_count(1)
    expect(row).to_contain_text(re.compile(r"started \S"))

    # Only report's parameter changed: prep and train are reused, report runs (for 6 s), live in both views.
    second = Experiment(ws, "pipes-ui").submit(steps, pipeline_parameters={"pause": 6.0})
    newest = runs.locator("li").first
    expect(newest).to_have_attribute("data-run-id", second.id)  # listed first, pushed in without polling
    expect(newest).to_contain_text("2/3 steps (2 reused, 1 running)", timeout=30_000)

    newest.get_by_role("button", name=re.compile(r"^Open run pipes-ui #2")).click()
    details = page.locator(f".jp-aml-RunDetails[data-run-id='{second.id}']")
    details.get_by_role("tab", name="Graph").click()
    graph = details.get_by_role("group", name=f"Graph of pipeline run {second.id}")
    expect(graph).to_have_attribute("data-steps", "3")
    expect(graph).to_have_attribute("data-edges", "2")
    nodes = graph.locator(".jp-aml-PipelineNode")
    expect(nodes).to_have_count(3)
    edges = details.get_by_role("list", name="Edges of the pipeline graph")
    expect(edges.get_by_role("listitem")).to_have_text(["prep → train: prepared", "train → report: run after"])
    expect(graph.locator(".jp-aml-PipelineEdge[data-kind='data']")).to_have_count(1)
    expect(graph.locator(".jp-aml-PipelineEdge[data-kind='run_after'][data-source='train'][data-target='report']")
           ).to_have_count(1)
    prep, train, report = (graph.locator(f"[data-step='{n}']") for n in ("prep", "train", "report"))
    for node in (prep, train):
        expect(node).to_have_attribute("data-reused", "true")
        expect(node).to_have_attribute("data-status", "Completed")
        expect(node).to_contain_text("reused")
    expect(report).to_have_attribute("data-status", "Running", timeout=30_000)
    expect(report).to_have_attribute("data-reused", "false")
    expect(report).to_contain_text("local")
    # Left to right in dependency layers: prep, then train, then report.
    xs = [n.bounding_box()["x"] for n in (prep, train, report)]  # type: ignore[index]
    assert xs[0] < xs[1] < xs[2], xs
    shots(studio, "graph")

    # The running step ends: its node turns Completed through the push channel, the summary follows.
    expect(report).to_have_attribute("data-status", "Completed", timeout=60_000)
    expect(details.get_by_role("status").filter(has_text="steps completed")).to_contain_text(
        "3/3 steps completed (2 reused)")
    expect(newest).to_contain_text("3/3 steps (2 reused)")
    assert second.wait_for_completion(show_output=False) == "Completed"
    studio.show_tab("AML workspace")
    section.scroll_into_view_if_needed()
    shots(studio, "sidebar")

    # A click on a step opens that step's run.
    report_run = second.find_step_run("report")[0]
    report.click()
    step_page = page.locator(f".jp-aml-RunDetails[data-run-id='{report_run.id}']")
    expect(step_page).to_be_visible()
    expect(step_page.get_by_role("tab", name="Graph")).to_have_count(0)  # a step run is no pipeline
