"""Identifiers in the studio agree with each other (issue 16, Build 7): the experiment badge says what it
counts ("3 runs (+5 child runs)", the same top-level runs its table lists), children are numbered under their
parent ("#2.1" on the run page, "#2" for its parent), a model names its run as the runs table does ("ids #2"),
and "Submitted by" is the user (the lab's one user, the OS login, for runs from the SDK, a child and the lab).

``pytest -m browser tests/browser/test_identifiers.py``
"""

from __future__ import annotations

import getpass
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jupyter_aml import Experiment, Workspace
from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.test_models_endpoints import open_section

pytestmark = pytest.mark.browser

WS = "ids-ui"  # not "default": test_studio checks the default workspace's empty states


def test_counts_numbers_and_submitter_agree(studio: Studio, tmp_path: Path) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    info = json.loads((lab.aml_root / "service.json").read_text())
    ws = Workspace(WS, service_url=info["url"], token=info["token"])
    exp = Experiment(ws, "ids")
    first = exp.start_logging()
    for _ in range(2):
        first.child_run().complete()
    first.complete()
    second = exp.start_logging()
    kids = [second.child_run(name=f"trial {i}") for i in range(3)]
    for kid in kids:
        kid.complete()
    (tmp_path / "m.txt").write_text("model\n")
    second.upload_file("outputs/m.txt", tmp_path / "m.txt")
    second.complete()
    second.register_model("ids-model", "outputs/m.txt")
    third = seed.interactive_run(lab, "ids", workspace=WS)  # from the lab: the Jupyter user
    assert [r.number for r in (first, second)] == [1, 2] and third["number"] == 3  # no gaps for children
    user = getpass.getuser()
    assert second.get_details()["submittedBy"] == user and kids[0].get_details()["submittedBy"] == user
    assert third["submitter"] == user

    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    section = open_section(sidebar, "Experiments")
    toggle = section.get_by_role("button", name="Experiment ids", exact=True)
    badge = toggle.get_by_label("3 runs (+5 child runs)")
    expect(badge).to_have_text("3 +5")
    table = studio.expand_experiment("ids")
    expect(table.get_by_role("button", name=re.compile(r"^Open run #\d"))).to_have_count(3)  # what "3 runs" says

    # the model names its run as the runs table does
    models = open_section(sidebar, "Models")
    models.get_by_role("button", name="Model ids-model", exact=True).click()
    version = models.get_by_role("listitem", name="ids-model version 1")
    expect(version.get_by_role("button", name=f"Open run {second.id}")).to_have_text("ids #2")

    # a child's page: "#2.1", its parent "#2", submitted by the user
    studio.run_command("aml:open-run", {"runId": kids[0].id, "workspace": WS})
    summary = page.get_by_role("group", name="Run #2.1 trial 0 summary")
    summary.wait_for()
    details = page.get_by_role("region", name="Run properties").last
    expect(details.locator("dt", has_text=re.compile("^Run$")).locator("xpath=following-sibling::dd[1]")).to_have_text(
        "#2.1")
    expect(details.get_by_role("button", name="#2", exact=True)).to_be_visible()
    submitted = details.locator("dt", has_text="Submitted by").locator("xpath=following-sibling::dd[1]")
    expect(submitted).to_have_text(user)
    studio.shot("run-identifiers.png")
    assert page.get_by_role("alert").filter(has_text="internal error").count() == 0
