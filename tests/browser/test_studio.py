"""The AML studio in a real JupyterLab, driven like a person would (roles, labels, visible text).

``pytest -m browser tests/browser`` (about 2 minutes). ``AML_BROWSER_SCREENSHOTS=1`` also writes the README
screenshots to docs/images/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import Studio

DASH = "\u2013"  # the pager says "1\u201350 of 120"

pytestmark = pytest.mark.browser


def runs_of(studio: Studio, experiment: str) -> list[dict[str, Any]]:
    page = studio.lab.get("workspaces/default/runs", experiment=experiment, page_size=500)
    return page["items"]  # type: ignore[no-any-return]


def widen_sidebar(studio: Studio, width: int = 420) -> None:
    """Drag the sidebar's edge (only for screenshots: a person would do the same)."""
    box = studio.page.get_by_role("region", name="AML workspace").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] + 2, box["y"] + box["height"] / 2
    studio.page.mouse.move(x, y)
    studio.page.mouse.down()
    studio.page.mouse.move(box["x"] + width, y, steps=5)
    studio.page.mouse.up()


def test_sidebar_sections_and_empty_states(studio: Studio) -> None:
    seed.ensure_workspace(studio.lab)
    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").wait_for()
    sections = ("Experiments", "Models", "Endpoints", "Computes", "Environments", "Datastores", "Datasets",
                "Pipelines")
    for title in sections:
        assert sidebar.get_by_role("button", name=re.compile(f"^{re.escape(title)}")).count() == 1, title
    # Sections without a backend say so; they never show made-up items.
    sidebar.get_by_role("button", name="Models").click()
    assert "No models yet" in sidebar.get_by_role("region", name="Models").inner_text()
    sidebar.get_by_role("button", name=re.compile("^Computes")).click()
    assert "local" in sidebar.get_by_role("list", name="Computes").inner_text()


def test_submit_folder_watch_it_complete_and_inspect(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    lab.copy_example("train-digits")

    # File browser > right-click the folder > Submit Folder as Run...
    browser = studio.show_tab("File Browser (Ctrl+Shift+F)")
    browser.get_by_text("train-digits", exact=True).click(button="right")
    page.get_by_role("menuitem", name="Submit Folder as Run…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Experiment", exact=True).fill("digits-e2e")
    expect(dialog.get_by_label("Script")).to_have_value("train.py")
    dialog.get_by_label("Arguments").fill("--C 0.5 --sweep 0.1 1")
    dialog.get_by_label("Tags").fill("suite=browser")
    dialog.get_by_role("button", name="Submit run").click()
    dialog.wait_for(state="detached")

    # The new run's page opens at once; its status follows the push channel to Completed.
    page.get_by_role("heading", name="Run #1", exact=True).wait_for()
    roots = [r for r in runs_of(studio, "digits-e2e") if r["parent_id"] is None]
    assert len(roots) == 1
    run = roots[0]
    assert run["tags"] == {"suite": "browser"}
    assert run["run_config"]["arguments"] == ["--C", "0.5", "--sweep", "0.1", "1"]

    # The sidebar shows the run; its badge turns Completed live (auto-refresh is off in these tests).
    table = studio.expand_experiment("digits-e2e")
    row = table.get_by_role("row").filter(has=page.get_by_role("button", name="Open run #1"))
    row.get_by_text("Completed", exact=True).wait_for(timeout=120_000)
    page.get_by_role("group", name="Run #1 summary").get_by_text("Completed", exact=True).wait_for(timeout=10_000)

    # Metrics: a chart of the stepped scalar, with its points exposed.
    page.get_by_role("tab", name="Metrics").click()
    chart = page.get_by_role("img", name=re.compile(r"^Chart of accuracy: 3 points"))
    chart.wait_for()
    assert chart.get_attribute("data-points") == "3"
    page.get_by_role("table", name="Table confusion").wait_for()
    page.get_by_role("table", name="Single-value metrics").get_by_text("final_accuracy").wait_for()
    studio.shot("run-details.png", readme=True)

    # Logs: the script's output, searchable.
    page.get_by_role("tab", name="Logs").click()
    log = page.get_by_role("log", name="Log of run-1")
    log.get_by_text(re.compile("final accuracy")).wait_for()
    page.get_by_label("Search logs").fill("child C=")
    page.get_by_text(re.compile(r"^2 of \d+ lines$")).wait_for()

    # Outputs with downloads, and the child runs of the sweep.
    page.get_by_role("tab", name="Outputs").click()
    page.get_by_role("button", name="Download outputs/model.pkl").wait_for()
    page.get_by_role("tab", name="Snapshot").click()
    page.get_by_role("button", name="Download train.py").wait_for()
    page.get_by_role("tab", name="Child runs").click()
    tree = page.get_by_role("tree", name="Child runs")
    tree.get_by_role("button", name="Open run #1.1 C=0.1").wait_for()  # children are numbered under their parent
    assert tree.get_by_role("treeitem").count() == 2


def test_submit_dialog_shows_errors_and_submits_nothing(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    lab.copy_example("train-digits")
    before = lab.get("workspaces/default/runs", page_size=1)["total"]

    studio.run_command("aml:submit-folder", {"path": "train-digits"}, wait=False)
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Script")).to_have_value("train.py")
    dialog.get_by_label("Arguments").fill('--C "0.5')
    dialog.get_by_role("button", name="Submit run").click()
    problems = dialog.get_by_role("alert", name="Submission problems")
    problems.get_by_text(re.compile("unclosed double quote")).wait_for()
    dialog.get_by_label("Arguments").fill("--C 0.5")
    dialog.get_by_label("Experiment", exact=True).fill("-bad name")
    dialog.get_by_role("button", name="Submit run").click()
    problems.get_by_text(re.compile("Experiment name")).wait_for()
    assert dialog.is_visible()
    dialog.get_by_role("button", name="Cancel").click()

    # A folder without a script.
    (lab.root_dir / "no-script").mkdir(exist_ok=True)
    (lab.root_dir / "no-script" / "notes.txt").write_text("nothing to run")
    studio.run_command("aml:submit-folder", {"path": "no-script"}, wait=False)
    expect(dialog.get_by_label("Script")).to_be_enabled()
    dialog.get_by_role("button", name="Submit run").click()
    problems.get_by_text(re.compile("no Python script")).wait_for()
    dialog.get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="detached")
    assert lab.get("workspaces/default/runs", page_size=1)["total"] == before


def test_compare_two_runs(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    slow = seed.logged_run(lab, "compare", lr=0.01, display_name="lr=0.01",
                           values={"phase": ["warmup", "sgd done"], "converged": [False], "note": [None]})
    fast = seed.logged_run(lab, "compare", lr=0.1, display_name="lr=0.1",
                           values={"phase": ["warmup", "adam done"], "converged": [True], "note": [None]})
    seed.many_runs(lab, "sweep-grid", 12)

    table = studio.expand_experiment("compare")
    studio.expand_experiment("sweep-grid")
    table.get_by_role("checkbox", name=f"Select run #{slow['number']} lr=0.01").check()
    table.get_by_role("checkbox", name=f"Select run #{fast['number']} lr=0.1").check()
    sidebar = studio.sidebar()
    studio.run_command("aml:open-run", {"runId": fast["id"], "workspace": "default", "tab": "metrics"})
    page.get_by_role("img", name=re.compile(r"^Chart of loss: 30 points")).wait_for()
    widen_sidebar(studio)
    studio.shot("sidebar.png", readme=True)
    sidebar.get_by_role("button", name="Compare", exact=True).click()

    diff = page.get_by_role("table", name="Run comparison")
    diff.wait_for()
    learning_rate = diff.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile("^learning_rate")))
    assert "(differs)" in learning_rate.inner_text()
    epochs = diff.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile("^epochs")))
    assert epochs.get_attribute("data-differs") == "false"
    chart = page.get_by_role("img", name=re.compile(r"^Chart of loss: 2 series, 60 points"))
    chart.wait_for()
    # text, bool and None metrics show their final value as logged, and are not charted
    def cells(name: str) -> list[str]:
        row = diff.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(f"^{name}")))
        return [row.get_by_role("cell").nth(i).inner_text() for i in range(2)]

    assert cells("phase") == ["sgd done", "adam done"]
    assert cells("converged") == ["False", "True"]
    assert cells("note") == ["None", "None"]
    assert page.get_by_role("img", name=re.compile(r"^Chart of phase")).count() == 0
    page.get_by_label("Only differences").check()
    assert epochs.count() == 0
    page.get_by_label("Only differences").uncheck()
    studio.shot("compare.png", readme=True)


def test_runs_table_sorts_filters_and_pages(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    seed.many_runs(lab, "many", 120)
    table = studio.expand_experiment("many")
    sidebar = studio.sidebar()
    # One scrolling list over the server's pages: the end of it loads as it scrolls into view.
    sidebar.get_by_text(re.compile(rf"^1{DASH}\d+ of 120$")).wait_for()
    sidebar.get_by_role("region", name="Scrollable runs of experiment many").evaluate(
        "e => { e.scrollTop = e.scrollHeight; }")
    sidebar.get_by_text(re.compile(rf"^\d+{DASH}120 of 120$")).wait_for()

    # Filter by status: every row then has that status.
    sidebar.get_by_label("Filter runs by status").select_option("Failed")
    failed = sum(1 for r in runs_of(studio, "many") if r["status"] == "Failed")
    sidebar.get_by_text(f"1{DASH}{failed} of {failed}").wait_for()
    assert table.get_by_text("Completed", exact=True).count() == 0
    sidebar.get_by_label("Filter runs by status").select_option("")

    # A metric column, sorted on the server (metric:score), best first.
    sidebar.get_by_label("Metric column").fill("score")
    sidebar.get_by_label("Metric column").press("Enter")
    table.get_by_role("columnheader", name="score").get_by_role("button").click()
    assert table.get_by_role("columnheader", name="score").get_attribute("aria-sort") == "descending"
    first = table.get_by_role("row").nth(1)
    best = max(((i * 7919) % 1000) / 1000 for i in range(120))
    studio.wait(lambda: first.get_by_role("cell").last.inner_text() == f"{best:g}")

    # Filter by tag.
    sidebar.get_by_label("Filter runs by tag").fill("batch=3")
    sidebar.get_by_label("Filter runs by tag").press("Enter")
    sidebar.get_by_text(f"1{DASH}12 of 12").wait_for()
    del page


def test_open_run_deep_link(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    run = seed.logged_run(lab, "deep-link", lr=0.05)
    studio.run_command("aml:open-run", {"runId": run["id"], "workspace": "default", "tab": "logs"})
    page.get_by_role("heading", name=f"Run #{run['number']}", exact=True).wait_for()
    assert page.get_by_role("tab", name="Logs").get_attribute("aria-selected") == "true"
    page.get_by_role("log").get_by_text("epoch 29: loss ok").wait_for()
    # The same link again reuses the page and switches tab.
    studio.run_command("aml:open-run", {"runId": run["id"], "workspace": "default", "tab": "metrics"})
    page.get_by_role("img", name=re.compile(r"^Chart of loss: 30 points")).wait_for()
    assert page.get_by_role("heading", name=f"Run #{run['number']}", exact=True).count() == 1
