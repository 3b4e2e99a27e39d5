"""Issue 16's studio items in a real JupyterLab, light and dark, in one seeded workspace:

- the endpoint Test tab starts from the model's ``sample_input`` (not ``{"data": []}``), answers 200, and a
  scoring script's 500 shows its error id with the replica's log lines, "Show in Logs" filtering the Logs tab;
- telemetry charts break at minutes without traffic and their legends show values, never ``--``;
- a ``log_row`` metric is charted, a confusion ``log_table`` keeps its row labels;
- the Child runs tab has the children's metrics as sortable columns;
- a failed run's headline names the exception and its last frame.

``pytest -m browser tests/browser/test_studio_polish.py``; ``AML_BROWSER_SCREENSHOTS=1`` also writes the
screenshots to docs/images/.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jupyter_aml import Experiment, InferenceConfig, LocalWebservice, Model, ScriptRunConfig, Workspace
from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.test_data_panels import close_toasts, set_theme

pytestmark = pytest.mark.browser

SCORING = Path(__file__).resolve().parents[1] / "serving" / "scoring"
WS = "polish-ui"
SERVICE = "echo-polish"
SAMPLE = {"data": [[1, 0.25, 0.5]]}


def sdk_workspace(studio: Studio) -> Workspace:
    info = json.loads((studio.lab.aml_root / "service.json").read_text())
    return Workspace(WS, service_url=info["url"], token=info["token"])


def both_themes(studio: Studio, name: str) -> None:
    close_toasts(studio)
    studio.shot(f"{name}.png", readme=True)
    set_theme(studio, "JupyterLab Dark")
    studio.shot(f"{name}-dark.png", readme=True)
    set_theme(studio, "JupyterLab Light")


def test_studio_polish(studio: Studio, tmp_path: Path) -> None:
    lab = studio.lab
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    ws = sdk_workspace(studio)
    # A real script that fails, submitted first: it runs while the rest is seeded.
    (tmp_path / "fail").mkdir()
    (tmp_path / "fail" / "train.py").write_text("def main():\n    print('training')\n    return 1 / 0\n\n\nmain()\n")
    failed = Experiment(ws, "fails").submit(ScriptRunConfig(source_directory=tmp_path / "fail", script="train.py"))
    try:
        endpoint_test_tab(studio, ws, tmp_path)
    finally:  # never leave replica processes behind
        with contextlib.suppress(Exception):
            lab.call("DELETE", f"workspaces/{WS}/endpoints/{SERVICE}")
    sweep_metrics_and_children(studio, ws)
    assert failed.wait_for_completion(show_output=False, raise_on_error=False)["status"] == "Failed"
    failed_headline(studio, failed.id)


def endpoint_test_tab(studio: Studio, ws: Workspace, tmp_path: Path) -> None:
    page = studio.page
    (tmp_path / "echo.txt").write_text("echo-polish\n")
    model = Model.register(ws, tmp_path / "echo.txt", "echo-polish", sample_input=SAMPLE)
    Model.deploy(ws, SERVICE, [model], InferenceConfig("echo.py", source_directory=SCORING),
                 LocalWebservice.deploy_configuration()).wait_for_deployment()

    studio.run_command("aml:open-endpoint", {"workspace": WS, "name": SERVICE, "tab": "test"})
    body = page.get_by_label("Request body (JSON)")
    # Prefilled from the model's sample_input, and it says so.
    expect(body).to_have_value(json.dumps(SAMPLE, indent=2))
    expect(page.get_by_text("Prefilled from model echo-polish:1's sample_input.")).to_be_visible()
    page.get_by_role("button", name="Send request").click()
    response = page.get_by_role("region", name="Test response")
    expect(response.get_by_role("status")).to_contain_text("HTTP 200 OK")
    assert json.loads(response.get_by_label("Response body").inner_text())["echo"] == SAMPLE

    # A 500 of the scoring script: its error id, the replica, and the log lines of that id.
    body.fill('{"boom": true}')
    page.get_by_role("button", name="Send request").click()
    expect(response.get_by_role("status")).to_contain_text("HTTP 500")
    error_id = json.loads(response.get_by_label("Response body").inner_text())["error"]["error_id"]
    expect(response.locator(f"[data-error-id='{error_id}']")).to_contain_text(f"error id {error_id}")
    log_lines = response.get_by_label("Log lines of this error")
    expect(log_lines).to_contain_text(f"error id {error_id}")
    expect(log_lines).to_contain_text("RuntimeError: secret internal detail")
    both_themes(studio, "endpoint-test-error")
    response.get_by_role("button", name="Show in Logs").click()
    expect(page.get_by_label("Search endpoint logs")).to_have_value(error_id)
    log = page.get_by_role("log", name=f"Log of endpoint {SERVICE}")
    expect(log).to_contain_text(f"error id {error_id}")

    # The last good request is remembered for this endpoint.
    stored = page.evaluate("k => window.localStorage.getItem(k)", f"jupyter-aml:endpoint-test:{WS}/{SERVICE}")
    assert json.loads(stored) == SAMPLE

    # Telemetry: no line across minutes without traffic; legends show values, not "--".
    page.get_by_role("tab", name="Telemetry").click()
    latency = page.get_by_role("img", name=re.compile(r"^Chart of latency: 3 series"))
    latency.wait_for()
    assert latency.get_attribute("data-span-gaps") == "false"
    assert latency.locator("canvas").count() == 1
    values = latency.locator(".u-legend .u-value")
    expect(values.first).not_to_have_text("--")
    texts = values.all_inner_texts()
    assert texts and "--" not in texts, texts
    assert any(re.fullmatch(r"[\d.,]+", t) for t in texts[1:]), texts  # the last latency, in ms


def sweep_metrics_and_children(studio: Studio, ws: Workspace) -> None:
    page = studio.page
    parent = Experiment(ws, "sweep-polish").start_logging(display_name="sweep")
    for samples, accuracy in [(100, 0.61), (200, 0.74), (400, 0.83), (800, 0.9)]:
        parent.log_row("learning_curve", samples=samples, accuracy=accuracy)
    parent.log_table("confusion", {"0": [5, 1, 0], "1": [0, 6, 1], "2": [1, 0, 7]})
    for c, accuracy in [(0.1, 0.71), (1.0, 0.93), (10.0, 0.85)]:
        child = parent.child_run(name=f"C={c}")
        child.log("C", c)
        child.log("accuracy", accuracy)
        child.complete()
    parent.complete()

    studio.run_command("aml:open-run", {"runId": parent.id, "workspace": WS, "tab": "metrics"})
    curve = page.get_by_role("region", name="Metric learning_curve")
    chart = curve.get_by_role("img", name=re.compile(r"^Chart of learning_curve: 4 points"))
    chart.wait_for()
    assert chart.locator("canvas").count() == 1  # log_row is charted: accuracy against samples
    confusion = page.get_by_role("table", name="Table confusion")
    expect(confusion.locator("th[scope='row']")).to_have_text(["0", "1", "2"])  # the rows keep their labels
    both_themes(studio, "metrics-row-and-table")

    page.get_by_role("tab", name="Child runs").click()
    table = page.get_by_role("table", name="Child runs metrics")
    expect(table.get_by_role("columnheader")).to_have_text(["Run", "Status", "Duration", "accuracy", "C"])
    accuracy = table.locator("td[data-metric='accuracy']")
    expect(accuracy).to_have_text(["0.71", "0.93", "0.85"])
    table.get_by_role("button", name="Sort by accuracy").click()
    expect(accuracy).to_have_text(["0.93", "0.85", "0.71"])  # best first
    table.get_by_role("button", name="Sort by accuracy").click()
    expect(accuracy).to_have_text(["0.71", "0.85", "0.93"])
    # Pick the columns: without C.
    page.get_by_text(re.compile(r"^Metric columns")).click()
    page.get_by_role("group", name="Metric columns").get_by_label("C", exact=True).uncheck()
    expect(table.get_by_role("columnheader")).to_have_text(["Run", "Status", "Duration", "accuracy"])
    both_themes(studio, "child-runs-metrics")


def failed_headline(studio: Studio, run_id: str) -> None:
    page = studio.page
    studio.run_command("aml:open-run", {"runId": run_id, "workspace": WS})
    header = page.get_by_role("group", name=re.compile(r"^Run .* summary$"))
    headline = header.locator(".jp-aml-RunHeadline")
    expect(headline).to_have_text("ZeroDivisionError: division by zero at train.py:3 in main")
    expect(headline).to_have_attribute("role", "alert")
    both_themes(studio, "run-failed-headline")
