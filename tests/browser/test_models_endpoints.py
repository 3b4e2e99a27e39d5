"""The studio's Models and Endpoints in a real JupyterLab: models registered with the SDK appear grouped by name
with their lineage; an echo model deployed as a local web service turns Healthy in the sidebar; its page sends
a test request through the server, counts it in the telemetry, and the registry refuses to delete the model
version the service uses, with the server's message.

``pytest -m browser tests/browser/test_models_endpoints.py``; ``AML_BROWSER_SCREENSHOTS=1`` also writes
docs/images/endpoints.png.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from jupyter_aml import Experiment, InferenceConfig, LocalWebservice, Model, Workspace
from tests.browser import seed
from tests.browser.conftest import Studio

pytestmark = pytest.mark.browser

SCORING = Path(__file__).resolve().parents[1] / "serving" / "scoring"
WS = "registry-ui"  # not "default": test_studio checks the default workspace's empty states
SERVICE = "echo-ui"


def sdk_workspace(studio: Studio) -> Workspace:
    """The SDK, connected to the lab's own server as a notebook kernel on this machine would be."""
    info = json.loads((studio.lab.aml_root / "service.json").read_text())
    return Workspace(WS, service_url=info["url"], token=info["token"])


def widen_sidebar(studio: Studio, width: int = 440) -> None:
    box = studio.page.get_by_role("region", name="AML workspace").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] + 2, box["y"] + box["height"] / 2
    studio.page.mouse.move(x, y)
    studio.page.mouse.down()
    studio.page.mouse.move(box["x"] + width, y, steps=5)
    studio.page.mouse.up()


def open_section(sidebar: Any, title: str) -> Any:
    toggle = sidebar.get_by_role("button", name=re.compile(f"^{title}"))
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    return sidebar.get_by_role("region", name=title)


def confirm(studio: Studio, button: str) -> None:
    dialog = studio.page.get_by_role("dialog")
    dialog.get_by_role("button", name=button, exact=True).click()
    dialog.wait_for(state="detached")


def test_models_and_endpoints(studio: Studio, tmp_path: Path) -> None:
    lab, page = studio.lab, studio.page
    # "default" too: a sidebar that loads while only WS exists opens on WS and keeps it, and the tests
    # after this one expect the default workspace.
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    ws = sdk_workspace(studio)
    try:
        run_scenario(studio, ws, tmp_path)
    finally:  # never leave replica processes behind
        with contextlib.suppress(Exception):
            lab.call("DELETE", f"workspaces/{WS}/endpoints/{SERVICE}")
    assert page.get_by_role("alert").filter(has_text="internal error").count() == 0


def run_scenario(studio: Studio, ws: Workspace, tmp_path: Path) -> None:
    lab, page = studio.lab, studio.page

    # Two versions of one model: from local files, then from a run's outputs (lineage to that run).
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "echo.txt").write_text("echo-v1\n")
    v1 = Model.register(ws, tmp_path / "v1" / "echo.txt", "echo-model", tags={"stage": "dev"},
                        description="first try")
    run = Experiment(ws, "train-echo").start_logging()
    (tmp_path / "v2.txt").write_text("echo-v2\n")
    run.upload_file("outputs/echo.txt", tmp_path / "v2.txt")
    run.complete()
    v2 = run.register_model("echo-model", "outputs/echo.txt", tags={"stage": "prod"}, model_framework="custom")
    assert (v1.version, v2.version) == (1, 2) and v2.run_id == run.id

    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    models = open_section(sidebar, "Models")
    toggle = models.get_by_role("button", name="Model echo-model", exact=True)
    expect(toggle).to_contain_text("v2 · 2 versions")
    toggle.click()
    versions = models.get_by_role("list", name="Versions of model echo-model")
    latest = versions.get_by_role("listitem", name="echo-model version 2")
    first = versions.get_by_role("listitem", name="echo-model version 1")
    expect(latest.get_by_role("button", name=f"Open run {run.id}")).to_have_text("train-echo #1")  # as runs are named
    expect(latest).to_contain_text("custom")
    expect(first).to_contain_text("registered from local files")
    expect(first).to_contain_text("first try")

    # Filter by tag: only the matching version stays.
    models.get_by_label("Filter models by name or tag").fill("stage=prod")
    expect(models.get_by_text("1 of 2 versions match the filter.")).to_be_visible()
    expect(first).to_have_count(0)
    models.get_by_label("Filter models by name or tag").fill("")
    expect(first).to_be_visible()

    # Edit tags of version 1: add one, remove one (PATCH), the list follows the model events.
    first.get_by_role("button", name="Edit tags of echo-model:1").click()
    first.get_by_label("New tag for echo-model:1").fill("reviewed=yes")
    first.get_by_label("New tag for echo-model:1").press("Enter")
    tags = first.get_by_role("list", name="Tags of echo-model:1")
    expect(tags).to_contain_text("reviewed")
    first.get_by_role("button", name="Remove tag stage from echo-model:1").click()
    expect(tags.get_by_text("stage")).to_have_count(0)
    assert lab.get(f"workspaces/{WS}/models/echo-model/versions/1")["tags"] == {"reviewed": "yes"}
    first.get_by_role("button", name="Edit tags of echo-model:1").click()

    # The snippet that gets this version back in Python.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    latest.get_by_role("button", name="Copy SDK snippet for echo-model:2").click()
    expect(latest.get_by_role("button", name="Copy SDK snippet for echo-model:2")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == 'Model(ws, "echo-model", version=2)'

    # The model's run opens from its lineage link.
    latest.get_by_role("button", name=f"Open run {run.id}").click()
    page.get_by_role("group", name=re.compile(r"^Run #\d+ summary$")).wait_for()

    # Deploy version 2 as a local web service; the sidebar sees it go Transitioning -> Healthy by push events.
    endpoints = open_section(sidebar, "Endpoints")
    expect(endpoints).to_contain_text("No endpoints yet")
    Model.deploy(ws, SERVICE, [v2], InferenceConfig("echo.py", source_directory=SCORING),
                 LocalWebservice.deploy_configuration())
    item = endpoints.get_by_role("listitem").filter(has=page.get_by_role("button", name=f"Open endpoint {SERVICE}"))
    expect(item.get_by_text("Healthy", exact=True)).to_be_visible(timeout=120_000)
    expect(item).to_contain_text("local · echo-model:2")
    expect(item).to_contain_text("1/1 replica")
    expect(toggle.get_by_text("deployed")).to_be_visible()  # the model list followed the web-service events

    # A delete of the version the service uses is refused, with the server's message.
    latest.get_by_role("button", name="Delete echo-model:2").click()
    confirm(studio, "Delete")
    refused = latest.get_by_role("alert").filter(has_text="Delete echo-model:2")
    expect(refused).to_contain_text(f"model echo-model:2 is used by the active deployment(s) {SERVICE}")
    expect(refused).to_contain_text("Conflict")
    assert lab.get(f"workspaces/{WS}/models/echo-model/versions/2")["version"] == 2
    latest.get_by_role("button", name="Dismiss").click()

    # The endpoint's page: overview.
    item.get_by_role("button", name=f"Open endpoint {SERVICE}").click()
    header = page.get_by_role("group", name=f"Endpoint {SERVICE} summary")
    expect(header.get_by_text("Healthy", exact=True)).to_be_visible()
    details = lab.get(f"workspaces/{WS}/endpoints/{SERVICE}")
    overview = page.get_by_role("region", name="Endpoint properties")
    expect(overview).to_contain_text(details["scoring_uri"])
    expect(overview).to_contain_text(details["swagger_uri"])
    replicas = page.get_by_role("table", name="Replicas")
    expect(replicas.get_by_text("ready", exact=True)).to_be_visible()

    # Test: a request sent through the server, its status and response shown.
    page.get_by_role("tab", name="Test").click()
    page.get_by_label("Request body (JSON)").fill('{"data": [[1, 2, 3]]}')
    page.get_by_role("button", name="Send request").click()
    response = page.get_by_role("region", name="Test response")
    expect(response.get_by_role("status")).to_contain_text("HTTP 200 OK")
    body = json.loads(response.get_by_label("Response body").inner_text())
    assert body["echo"] == {"data": [[1, 2, 3]]} and body["model"] == "echo-v2"
    # The endpoint's own errors are data too.
    page.get_by_label("Request body (JSON)").fill('{"boom": true}')
    page.get_by_role("button", name="Send request").click()
    expect(response.get_by_role("status")).to_contain_text("HTTP 500")
    expect(response.get_by_label("Response body")).to_contain_text("ScoringError")
    page.get_by_label("Request body (JSON)").fill('{"data": [[1, 2, 3]]}')
    page.get_by_role("button", name="Send request").click()
    expect(response.get_by_role("status")).to_contain_text("HTTP 200 OK")

    widen_sidebar(studio)
    for toast in page.get_by_title("Hide notification").all():  # the refused delete's toast
        toast.click()
    expect(page.get_by_title("Hide notification")).to_have_count(0)
    studio.shot("endpoints.png", readme=True)

    # Telemetry counts the three test requests (one a 5xx).
    page.get_by_role("tab", name="Telemetry").click()
    totals = page.get_by_role("table", name="Telemetry totals")
    values = totals.get_by_role("row").nth(1).get_by_role("cell")
    expect(values.nth(0)).to_have_text("3")
    expect(values.nth(2)).to_have_text("1")
    page.get_by_role("img", name=re.compile(r"^Chart of requests per minute: 2 series")).wait_for()
    page.get_by_role("img", name=re.compile(r"^Chart of latency: 3 series")).wait_for()

    # Keys: shown on demand; regenerating the secondary key replaces it.
    page.get_by_role("tab", name="Keys").click()
    keys = lab.get(f"workspaces/{WS}/endpoints/{SERVICE}/keys")
    page.get_by_role("button", name="Show primary key").click()
    expect(page.get_by_label("Primary key value")).to_have_text(keys["primary_key"])
    page.get_by_role("row", name=re.compile("^Secondary key")).get_by_role("button", name="Regenerate").click()
    confirm(studio, "Regenerate secondary key")
    studio.wait(lambda: lab.get(f"workspaces/{WS}/endpoints/{SERVICE}/keys")["secondary_key"]
                != keys["secondary_key"])
    page.get_by_role("button", name="Show secondary key").click()
    fresh = lab.get(f"workspaces/{WS}/endpoints/{SERVICE}/keys")["secondary_key"]
    expect(page.get_by_label("Secondary key value")).to_have_text(fresh)

    # Logs: the service's log, with the failed request's traceback.
    page.get_by_role("tab", name="Logs").click()
    log = page.get_by_role("log", name=f"Log of endpoint {SERVICE}")
    expect(log).to_contain_text("secret internal detail")

    # From the endpoint's models to the Models section (lineage).
    page.get_by_role("tab", name="Overview").click()
    page.get_by_role("button", name="Show model echo-model:2").click()
    revealed = studio.sidebar().get_by_role("listitem", name="echo-model version 2")
    expect(revealed).to_be_visible()
    expect(revealed).to_have_class(re.compile("jp-mod-focused"))

    # Delete the endpoint from its page: the page closes, the sidebar empties, the version can go.
    page.get_by_role("button", name="Delete endpoint").click()
    confirm(studio, "Delete endpoint")
    header.wait_for(state="detached")
    expect(endpoints).to_contain_text("No endpoints yet", timeout=60_000)
    latest.get_by_role("button", name="Delete echo-model:2").click()
    confirm(studio, "Delete")
    expect(latest).to_have_count(0)
    expect(first).to_be_visible()
    expect(toggle).to_contain_text("v1 · 1 version")
    assert [m["version"] for m in lab.get(f"workspaces/{WS}/models")["items"]] == [1]
