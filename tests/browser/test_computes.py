"""The studio's Compute section in a real JupyterLab on a real embedded Dask cluster: a cluster created from
the "New compute…" dialog (the server's refusals shown in the dialog), runs submitted to it so that its two
nodes go busy and a third run queues with its reason, all followed live through the push channel (polling is
off); the nodes drop back to none after the idle time, and the cluster is deleted from the UI, cancelling the
run still on it after the user says so.

``pytest -m browser tests/browser/test_computes.py``; ``AML_BROWSER_SCREENSHOTS=1`` also writes
docs/images/studio-compute.png.
"""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.test_models_endpoints import confirm, open_section, widen_sidebar

pytestmark = pytest.mark.browser

WS = "compute-ui"  # not "default": test_studio checks the default workspace's empty states
CLUSTER = "cpu-ui"
SLEEPER = "import time\nprint('working', flush=True)\ntime.sleep(300)\n"
QUICK = "print('done quickly', flush=True)\n"
WAITING = re.compile(r"waiting for a node.*: 2 of 2 busy")


def scale(now: int, low: int, high: int) -> str:
    """The row's "now / min\u2013max nodes" text."""
    return f"{now} / {low}\u2013{high} nodes"


def submit(studio: Studio, script: str) -> str:
    run = studio.lab.post(f"workspaces/{WS}/runs/from-folder", {
        "folder": "cluster-job", "experiment": "scale-out",
        "run_config": {"script": script, "compute_target": CLUSTER}})
    return str(run["id"])


def status(studio: Studio, run_id: str) -> str:
    return str(studio.lab.get(f"workspaces/{WS}/runs/{run_id}")["status"])


def test_a_cluster_from_the_dialog_scales_with_its_runs_live_and_is_deleted(studio: Studio) -> None:
    lab = studio.lab
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    job = lab.root_dir / "cluster-job"
    job.mkdir(exist_ok=True)
    (job / "sleep.py").write_text(SLEEPER)
    (job / "quick.py").write_text(QUICK)
    try:
        run_scenario(studio)
    finally:  # never leave a cluster host behind
        with contextlib.suppress(Exception):
            lab.call("DELETE", f"workspaces/{WS}/computes/{CLUSTER}", force="true")


def create_from_dialog(studio: Studio, computes: Any) -> None:
    page = studio.page
    computes.get_by_role("button", name="New compute…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("VM size")).to_contain_text("STANDARD_D2_V2 (2 vCPUs, 7 GB)")
    problems = dialog.get_by_role("alert", name="Problems")

    # The name rule is checked before anything is sent.
    dialog.get_by_label("Name").fill("9lives")
    dialog.get_by_role("button", name="Create compute").click()
    expect(problems).to_contain_text('"9lives" is not a valid compute name')

    # The server's refusals stay in the dialog: max < min (400), a name taken (409).
    dialog.get_by_label("Name").fill(CLUSTER)
    dialog.get_by_label("Min nodes").fill("3")
    dialog.get_by_label("Max nodes").fill("2")
    dialog.get_by_role("button", name="Create compute").click()
    expect(problems).to_contain_text("max_nodes (2) is less than min_nodes (3)")
    dialog.get_by_label("Name").fill("local")
    dialog.get_by_label("Min nodes").fill("0")
    dialog.get_by_role("button", name="Create compute").click()
    expect(problems).to_contain_text("already exists")
    expect(problems).to_contain_text("Conflict")

    # An instance asks for its idle shutdown instead of node counts.
    dialog.get_by_label("Type").select_option("ComputeInstance")
    expect(dialog.get_by_label("Idle minutes before shutdown")).to_be_visible()
    expect(dialog.get_by_label("Max nodes")).to_have_count(0)
    dialog.get_by_label("Type").select_option("AmlCompute")

    dialog.get_by_label("Name").fill(CLUSTER)
    dialog.get_by_label("Max nodes").fill("2")
    dialog.get_by_label("Idle seconds before scale down").fill("5")
    dialog.get_by_role("button", name="Create compute").click()
    dialog.wait_for(state="detached")


def run_scenario(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    sidebar = studio.sidebar()
    widen_sidebar(studio, 470)
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    computes = open_section(sidebar, "Computes")

    # The configured target is listed, without actions: the server would refuse them.
    local = computes.get_by_role("listitem", name="Compute local")
    expect(local).to_contain_text(re.compile(r"local · 0 of \d+ runs? running"))
    local.get_by_role("button", name="Compute local").click()
    expect(local.get_by_role("group", name="Details of local")).to_contain_text("configured for the server")
    expect(local.get_by_role("button", name="Delete local")).to_have_count(0)
    local.get_by_role("button", name="Compute local").click()

    create_from_dialog(studio, computes)
    row = computes.get_by_role("listitem", name=f"Compute {CLUSTER}")
    expect(row).to_contain_text("AmlCompute · STANDARD_D2_V2 (2 vCPUs, 7 GB)")
    expect(row.get_by_text("Running", exact=True)).to_be_visible(timeout=60_000)
    bar = row.get_by_role("img", name=re.compile(f"^Nodes of {CLUSTER}"))
    expect(bar).to_have_attribute("aria-label", f"Nodes of {CLUSTER}: no nodes")
    expect(row).to_contain_text(scale(0, 0, 2))
    made = lab.get(f"workspaces/{WS}/computes/{CLUSTER}")
    assert (made["max_nodes"], made["idle_seconds_before_scaledown"]) == (2, 5)

    # Three runs on two nodes: both nodes go busy and the third waits, with the reason, pushed live.
    # The first goes through the submit dialog, which offers the new cluster among the targets.
    studio.run_command("aml:submit-folder", {"path": "cluster-job"}, wait=False)
    dialog = page.get_by_role("dialog")
    target = dialog.get_by_label("Compute target")
    expect(target.locator("option")).to_have_text(["local", f"{CLUSTER} (AmlCompute)"])
    target.select_option(CLUSTER)
    dialog.get_by_label("Script").select_option("sleep.py")
    dialog.get_by_label("Experiment", exact=True).fill("scale-out")
    dialog.get_by_role("button", name="Submit run").click()
    dialog.wait_for(state="detached")
    runs = lab.get(f"workspaces/{WS}/runs", experiment="scale-out")["items"]
    assert [r["compute_target"] for r in runs] == [CLUSTER]
    first, second = str(runs[0]["id"]), submit(studio, "sleep.py")
    third = submit(studio, "quick.py")
    expect(bar).to_have_attribute("aria-label", f"Nodes of {CLUSTER}: 2 busy", timeout=60_000)
    expect(row).to_contain_text(scale(2, 0, 2))
    expect(row).to_contain_text("1 run queued: waiting for a node")
    expect(row).to_contain_text(WAITING)
    details = row.get_by_role("group", name=f"Details of {CLUSTER}")
    if details.count() == 0:  # the dialog expanded the new compute; expand it otherwise
        row.get_by_role("button", name=f"Compute {CLUSTER}").click()
    nodes = details.get_by_role("table", name=f"Nodes of {CLUSTER}")
    for run_id in (first, second):
        expect(nodes).to_contain_text(run_id)
    expect(nodes.locator("tr[data-node-state='busy']")).to_have_count(2)
    queue = details.get_by_role("list", name=f"Queue of {CLUSTER}")
    expect(queue.get_by_role("listitem")).to_have_count(1)
    expect(queue).to_contain_text(third)
    expect(queue).to_contain_text(WAITING)
    assert status(studio, third) == "Queued"
    expect(queue.get_by_role("button", name=f"Open run {third}")).to_have_count(1)  # runs are links
    nodes.get_by_role("button", name=f"Open run {first}").click()
    expect(page.get_by_role("tab", name="Overview")).to_have_count(1)
    studio.shot("studio-compute.png", readme=True)
    studio.run_command("apputils:change-theme", {"theme": "JupyterLab Dark"})
    expect(page.locator("body[data-jp-theme-name='JupyterLab Dark']")).to_have_count(1)
    studio.shot("studio-compute-dark.png")  # the test's own folder: looked at, not published
    studio.run_command("apputils:change-theme", {"theme": "JupyterLab Light"})

    # The runs end: the queued one takes a node and completes, then the idle nodes leave after 5 s.
    lab.post(f"workspaces/{WS}/runs/{first}/cancel", {})
    expect(queue).to_have_count(0, timeout=30_000)
    expect(details).to_contain_text("No runs waiting.")
    studio.wait(lambda: status(studio, third) == "Completed", timeout=90)
    lab.post(f"workspaces/{WS}/runs/{second}/cancel", {})
    started = time.monotonic()
    expect(bar).to_have_attribute("aria-label", f"Nodes of {CLUSTER}: no nodes", timeout=90_000)
    assert time.monotonic() - started >= 4, "nodes left before the idle time passed"
    expect(row).to_contain_text(scale(0, 0, 2))
    expect(details).to_contain_text("No nodes: the cluster scales up when runs are queued.")

    # Resize from the row: max 3 (PATCH), shown live.
    details.get_by_role("button", name=f"Resize {CLUSTER}").click()
    resize = details.get_by_role("form", name=f"Resize {CLUSTER}")
    resize.get_by_label("Max nodes").fill("3")
    resize.get_by_role("button", name="Apply").click()
    expect(row).to_contain_text(scale(0, 0, 3))
    assert lab.get(f"workspaces/{WS}/computes/{CLUSTER}")["max_nodes"] == 3

    # Delete while a run is on it: the server refuses (409), the user cancels the run and deletes.
    last = submit(studio, "sleep.py")
    studio.wait(lambda: status(studio, last) == "Running", timeout=60)
    details.get_by_role("button", name=f"Delete {CLUSTER}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete compute", exact=True).click()
    conflict = page.get_by_role("dialog").filter(has_text=f"Compute {CLUSTER} has runs")
    expect(conflict).to_contain_text(f"compute '{CLUSTER}' has 1 queued or running run(s)")
    confirm(studio, "Cancel its runs and delete")
    expect(row).to_have_count(0, timeout=30_000)
    assert status(studio, last) == "Canceled"
    assert [c["name"] for c in lab.get(f"workspaces/{WS}/computes")["items"]] == ["local"]
    assert page.get_by_role("alert").filter(has_text="internal error").count() == 0


INSTANCE = "box-ui"


def test_an_instance_from_the_dialog_stops_starts_and_restarts_from_its_row(studio: Studio) -> None:
    from tests.serving.docker_env import ensure_engine, python_base_image

    image = python_base_image(ensure_engine())
    lab = studio.lab
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    try:
        run_instance_scenario(studio, image)
    finally:  # never leave a container behind
        with contextlib.suppress(Exception):
            lab.call("DELETE", f"workspaces/{WS}/computes/{INSTANCE}", force="true")


def run_instance_scenario(studio: Studio, image: str) -> None:
    lab, page = studio.lab, studio.page
    sidebar = studio.sidebar()
    widen_sidebar(studio, 470)
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    computes = open_section(sidebar, "Computes")

    computes.get_by_role("button", name="New compute…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Type").select_option("ComputeInstance")
    dialog.get_by_label("Name").fill(INSTANCE)
    dialog.get_by_label("VM size").select_option("STANDARD_DS1_V2")
    dialog.get_by_label("Idle minutes before shutdown").fill("30")
    # An image the engine does not have is refused, in the dialog.
    dialog.get_by_label("Docker image").fill("jupyter-aml-test/never-built:1")
    dialog.get_by_role("button", name="Create compute").click()
    expect(dialog.get_by_role("alert", name="Problems")).to_contain_text("never-built")
    dialog.get_by_label("Docker image").fill(image)
    dialog.get_by_role("button", name="Create compute").click()
    dialog.wait_for(state="detached")

    row = computes.get_by_role("listitem", name=f"Compute {INSTANCE}")
    expect(row).to_contain_text("ComputeInstance · STANDARD_DS1_V2 (1 vCPU, 3.5 GB)")
    state = row.locator("[data-status]").first
    expect(state).to_have_attribute("data-status", "Running", timeout=120_000)
    expect(row).to_contain_text(re.compile(r"0 of \d+ runs? running"))
    details = row.get_by_role("group", name=f"Details of {INSTANCE}")
    expect(details).to_contain_text("30 min idle")
    expect(details).to_contain_text(image)
    actions = details.get_by_role("group", name=f"Actions of {INSTANCE}")
    expect(actions.get_by_role("button", name=f"Start {INSTANCE}", exact=True)).to_be_disabled()
    expect(actions.get_by_role("button", name=f"Resize {INSTANCE}", exact=True)).to_have_count(0)

    # Each state change arrives through the push channel: no reload, no polling.
    actions.get_by_role("button", name=f"Stop {INSTANCE}", exact=True).click()
    expect(state).to_have_attribute("data-status", "Stopped", timeout=60_000)
    assert lab.get(f"workspaces/{WS}/computes/{INSTANCE}")["state"] == "Stopped"
    expect(actions.get_by_role("button", name=f"Stop {INSTANCE}", exact=True)).to_be_disabled()
    actions.get_by_role("button", name=f"Start {INSTANCE}", exact=True).click()
    expect(state).to_have_attribute("data-status", "Running", timeout=120_000)
    actions.get_by_role("button", name=f"Restart {INSTANCE}", exact=True).click()
    expect(state).to_have_attribute("data-status", "Running", timeout=120_000)
    expect(actions.get_by_role("button", name=f"Restart {INSTANCE}", exact=True)).to_be_enabled()

    # No runs on it: deleted after one confirmation.
    actions.get_by_role("button", name=f"Delete {INSTANCE}", exact=True).click()
    confirm(studio, "Delete compute")
    expect(row).to_have_count(0, timeout=60_000)
    assert INSTANCE not in [c["name"] for c in lab.get(f"workspaces/{WS}/computes")["items"]]
    assert page.get_by_role("alert").filter(has_text="internal error").count() == 0


def test_a_compute_that_fails_to_provision_shows_why_in_its_row(studio: Studio) -> None:
    """A real provisioning failure: a file lies where the cluster's folder must go on the service's disk."""
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    blocker = lab.aml_root / "computes" / WS / "broke-ui"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    computes = open_section(sidebar, "Computes")
    try:
        lab.post(f"workspaces/{WS}/computes", {"name": "broke-ui", "type": "AmlCompute", "max_nodes": 1})
        row = computes.get_by_role("listitem", name="Compute broke-ui")
        expect(row.locator("[data-status]").first).to_have_attribute("data-status", "Failed", timeout=60_000)
        expect(row.get_by_role("alert")).to_contain_text("File exists")
        row.get_by_role("button", name="Compute broke-ui").click()
        row.get_by_role("button", name="Delete broke-ui").click()
        confirm(studio, "Delete compute")
        expect(row).to_have_count(0, timeout=30_000)
    finally:
        with contextlib.suppress(Exception):
            lab.call("DELETE", f"workspaces/{WS}/computes/broke-ui", force="true")
        blocker.unlink(missing_ok=True)
    assert page.get_by_role("alert").filter(has_text="internal error").count() == 0
