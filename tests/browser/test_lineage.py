"""Dataset lineage in a real JupyterLab, both ways, from a real run on the local compute.

A script reads a registered file dataset (``as_named_input('train').as_download()``) and writes an
``OutputFileDatasetConfig(...).register_on_complete('prepared')``. Then:

- the dataset's Lineage tab lists the run (its number and display name) as having read version 1 under
  ``train``, and the output dataset's lists it as having written ``out``; the run opens its page;
- that run page has a Datasets tab: the input (name, dataset:version, mode) and the output
  (name, dataset:version registered);
- a dataset no run used says how lineage gets there; a run without datasets has no Datasets tab.

``pytest -m browser tests/browser/test_lineage.py``; ``AML_BROWSER_SCREENSHOTS=1`` also writes
docs/images/dataset-lineage.png and docs/images/run-datasets.png (light theme); the dark ones go to the
test's temporary folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from jupyter_aml import Experiment, Workspace
from jupyter_aml.sdk import Dataset, OutputFileDatasetConfig, ScriptRunConfig
from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.test_data_panels import close_toasts, set_theme
from tests.browser.test_models_endpoints import open_section, widen_sidebar

pytestmark = pytest.mark.browser

WS = "lineage-ui"  # not "default": test_studio checks the default workspace's empty states

SCRIPT = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--train")
parser.add_argument("--out")
args = parser.parse_args()
names = sorted(os.listdir(args.train))
print("read", names)
with open(os.path.join(args.out, "summary.txt"), "w") as f:
    f.write(f"files={len(names)}\\n")
"""


def sdk_workspace(studio: Studio) -> Workspace:
    info = json.loads((studio.lab.aml_root / "service.json").read_text())
    return Workspace(WS, service_url=info["url"], token=info["token"])


def wait_for(get: Any, timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.3)


def run_page(studio: Studio, run_id: str) -> Any:
    page = studio.page.locator(f".jp-aml-RunDetails[data-run-id='{run_id}']")
    page.wait_for()
    return page


def test_lineage_on_the_dataset_and_the_run(studio: Studio, tmp_path: Path) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    ws = sdk_workspace(studio)
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("x,y\n1,2\n")
    (data / "b.csv").write_text("x,y\n3,4\n")
    blob = ws.get_default_datastore()
    blob.upload(src_dir=str(data), target_path="lineage-raw", show_progress=False)
    raw = Dataset.File.from_files(path=[(blob, "lineage-raw/*.csv")]).register(ws, "raw files")
    Dataset.File.from_files(path=[(blob, "lineage-raw/a.csv")]).register(ws, "unused")
    output = OutputFileDatasetConfig(name="out", destination=(blob, "prepared/{run-id}")).register_on_complete(
        "prepared")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "prep.py").write_text(SCRIPT)
    src = ScriptRunConfig(source_directory=str(project), script="prep.py",
                          arguments=["--train", raw.as_named_input("train").as_download(), "--out", output])
    run = Experiment(ws, "lineage").submit(src, display_name="prep data")
    plain = Experiment(ws, "lineage").submit(ScriptRunConfig(
        source_directory=str(project), script="prep.py", arguments=["--train", ".", "--out", "."]))
    for r in (run, plain):
        status = wait_for(lambda r=r: r.get_status() if r.get_status() in {"Completed", "Failed"} else None)
        assert status == "Completed", [line["text"] for line in r.get_logs()][-30:]
    # the output is registered as the run ends: wait for its lineage before looking
    wait_for(lambda: lab.get(f"workspaces/{WS}/datasets/prepared/lineage")["items"], timeout=30)

    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    section = open_section(sidebar, "Datasets")

    # A dataset no run used says how lineage gets there.
    section.get_by_role("button", name="Dataset unused", exact=True).click()
    unused = section.get_by_role("group", name="Dataset unused details")
    unused.get_by_role("tab", name="Lineage").click()
    expect(unused).to_contain_text("No run has read or written unused yet")
    expect(unused).to_contain_text('ds.as_named_input("unused")')
    section.get_by_role("button", name="Dataset unused", exact=True).click()

    # The input dataset: the run read version 1 as "train".
    section.get_by_role("button", name="Dataset raw files", exact=True).click()
    details = section.get_by_role("group", name="Dataset raw files details")
    details.get_by_role("tab", name="Lineage").click()
    table = details.get_by_role("table", name="Lineage of dataset raw files")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one run
    row = table.get_by_role("row").nth(1)
    expect(row.get_by_role("cell").nth(0)).to_have_text("v1")
    link = row.get_by_role("button", name=f"Open run {run.id}")
    expect(link).to_have_text("#1 prep data")
    expect(row.get_by_role("cell").nth(2)).to_have_text("input (read)")
    expect(row.get_by_role("cell").nth(3)).to_have_text("train")
    assert page.get_by_role("alert").count() == 0

    widen_sidebar(studio, 520)
    close_toasts(studio)
    studio.shot("dataset-lineage.png", readme=True)
    set_theme(studio, "JupyterLab Dark")
    studio.shot("dataset-lineage-dark.png")
    set_theme(studio, "JupyterLab Light")

    # The output dataset: the run wrote version 1 as "out".
    section.get_by_role("button", name="Dataset prepared", exact=True).click()
    prepared = section.get_by_role("group", name="Dataset prepared details")
    prepared.get_by_role("tab", name="Lineage").click()
    written = prepared.get_by_role("table", name="Lineage of dataset prepared").get_by_role("row").nth(1)
    expect(written.get_by_role("cell").nth(2)).to_have_text("output (written)")
    expect(written.get_by_role("cell").nth(3)).to_have_text("out")

    # The run opens its page, which has a Datasets tab: the input and the registered output.
    link.click()
    details_page = run_page(studio, run.id)
    details_page.get_by_role("tab", name="Datasets").click()
    inputs = details_page.get_by_role("table", name="Inputs of the run")
    expect(inputs.get_by_role("row")).to_have_count(2)
    cells = inputs.get_by_role("row").nth(1).get_by_role("cell")
    expect(cells.nth(0)).to_have_text("train")
    expect(cells.nth(1)).to_have_text("raw files:1")
    expect(cells.nth(2)).to_have_text("download (as_download)")
    outputs = details_page.get_by_role("table", name="Outputs of the run")
    expect(outputs.get_by_role("row")).to_have_count(2)
    cells = outputs.get_by_role("row").nth(1).get_by_role("cell")
    expect(cells.nth(0)).to_have_text("out")
    expect(cells.nth(1)).to_have_text("prepared:1")
    studio.shot("run-datasets.png", readme=True)
    set_theme(studio, "JupyterLab Dark")
    studio.shot("run-datasets-dark.png")
    set_theme(studio, "JupyterLab Light")

    # A run without datasets shows no Datasets tab (once its lineage has been read).
    with page.expect_response(lambda r: f"/runs/{plain.id}/lineage" in r.url) as answer:
        studio.run_command("aml:open-run", {"runId": plain.id, "workspace": WS})
    assert answer.value.json() == {"items": []}
    other = run_page(studio, plain.id)
    expect(other.get_by_role("tab", name="Overview")).to_be_visible()
    page.wait_for_timeout(300)  # a render after the answer
    expect(other.get_by_role("tab", name="Datasets")).to_have_count(0)
    expect(other.get_by_role("tab")).to_have_count(6)
    assert page.get_by_role("alert").count() == 0
