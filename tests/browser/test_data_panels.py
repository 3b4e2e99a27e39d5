"""The studio's Datastores and Datasets sections in a real JupyterLab.

- A local folder registered through the "Register datastore…" dialog (after the dialog showed the browser's
  own check and the service's refusal, worded as the service words it) is listed with its kind, shows where
  it is and its files, folder by folder; it can become the default and be unregistered.
- An S3-compatible bucket on a real S3-protocol server (moto's server mode) registered through the dialog:
  the secret key goes into a password field once; a wrong one is refused naming the store, never the key;
  afterwards no page text, no input and no server log line holds the key. Azure Blob is offered, and without
  adlfs the service's refusal names the package to install.
- A tabular dataset registered over REST shows its first rows and its profile (the numbers the service
  computed), a second version can be picked, and a file dataset shows its files.

``pytest -m browser tests/browser/test_data_panels.py``; ``AML_BROWSER_SCREENSHOTS=1`` also writes
docs/images/datastores.png and docs/images/datasets.png (light theme); other screenshots (dark) go to the
test's temporary folder.
"""

from __future__ import annotations

import json
import re
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.test_models_endpoints import open_section, widen_sidebar
from tests.data import s3

pytestmark = pytest.mark.browser

WS = "data-ui"  # not "default": test_studio checks the default workspace's empty states

IRIS = """sepal_length,sepal_width,species
5.1,3.5,setosa
4.9,,setosa
6.3,3.3,virginica
5.8,2.7,virginica
7.0,3.2,versicolor
"""


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[s3.S3Server]:
    proc, server = s3.start(tmp_path_factory.mktemp("moto") / "moto_server.log")
    try:
        yield server
    finally:
        s3.stop(proc)


def make_folder(base: Path) -> Path:
    """A folder outside every root, with files at the top and in nested folders."""
    folder = base / "shared-data"
    (folder / "tables" / "extra").mkdir(parents=True)
    (folder / "readme.txt").write_text("what is here\n")
    (folder / "tables" / "iris.csv").write_text(IRIS)
    (folder / "tables" / "extra" / "more.csv").write_text(IRIS)
    return folder


def select_workspace(studio: Studio) -> Any:
    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    return sidebar


def set_theme(studio: Studio, theme: str) -> None:
    """Switch JupyterLab's theme and wait until its splash (shown while the theme loads) is gone."""
    studio.run_command("apputils:change-theme", {"theme": theme})
    expect(studio.page.locator(f"body[data-jp-theme-name='{theme}']")).to_have_count(1)
    expect(studio.page.locator("#jupyterlab-splash")).to_have_count(0)


def close_toasts(studio: Studio) -> None:
    for toast in studio.page.get_by_title("Hide notification").all():
        toast.click()


def test_register_local_datastore_and_browse(studio: Studio, tmp_path: Path) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    folder = make_folder(tmp_path)

    sidebar = select_workspace(studio)
    section = open_section(sidebar, "Datastores")
    # The workspace's own storage exists from the start and is the default.
    builtin = section.get_by_role("button", name="Datastore workspaceblobstore", exact=True)
    expect(builtin).to_contain_text("default")
    expect(builtin).to_contain_text("workspace")

    section.get_by_role("button", name="Register datastore…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Kind")).to_have_value("local")
    register = dialog.get_by_role("button", name="Register datastore")

    # The browser's own check: nothing is sent.
    dialog.get_by_label("Name", exact=True).fill("bad name!")
    register.click()
    expect(dialog.get_by_role("alert", name="Problems")).to_contain_text("letters, digits and underscores only")

    # The service's refusal, as the service words it (the same words its REST answer has).
    body = {"name": "shared_data", "kind": "local", "path": "relative/folder"}
    with pytest.raises(urllib.error.HTTPError) as refused:
        lab.post(f"workspaces/{WS}/datastores", body)
    message = json.loads(refused.value.read())["error"]["message"]
    dialog.get_by_label("Name", exact=True).fill("shared_data")
    dialog.get_by_label("Folder", exact=True).fill("relative/folder")
    register.click()
    expect(dialog.get_by_role("alert", name="Problems")).to_contain_text(message)
    assert "shared_data" not in {d["name"] for d in lab.get(f"workspaces/{WS}/datastores")["items"]}

    dialog.get_by_label("Description").fill("the team's shared folder")
    dialog.get_by_label("Folder", exact=True).fill(str(folder))
    register.click()
    dialog.wait_for(state="detached")

    # Listed (and opened) with its kind and where it is; the files of its root.
    toggle = section.get_by_role("button", name="Datastore shared_data", exact=True)
    expect(toggle).to_contain_text("folder")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    details = section.get_by_role("group", name="Datastore shared_data details")
    about = details.get_by_label("About shared_data")
    expect(about).to_contain_text("Local folder (LocalFolder)")
    expect(about).to_contain_text(str(folder))
    expect(about).to_contain_text("the team's shared folder")
    files = details.get_by_role("table", name="Files of shared_data")
    expect(files.get_by_role("button", name="Open folder tables")).to_be_visible()
    expect(files).to_contain_text("readme.txt")
    expect(files).to_contain_text("2 files")  # tables/ holds two, one of them nested

    # Browse into tables/, then into extra/, and back to the root with the breadcrumbs.
    files.get_by_role("button", name="Open folder tables").click()
    expect(files).to_contain_text("iris.csv")
    expect(files).not_to_contain_text("readme.txt")
    expect(files.get_by_role("button", name="Download tables/iris.csv")).to_be_visible()
    with page.expect_download() as download:
        files.get_by_role("button", name="Download tables/iris.csv").click()
    saved = tmp_path / "iris-downloaded.csv"
    download.value.save_as(saved)
    assert saved.read_text() == IRIS
    files.get_by_role("button", name="Open folder extra").click()
    expect(files).to_contain_text("more.csv")
    details.get_by_role("button", name="Root of datastore shared_data").click()
    expect(files).to_contain_text("readme.txt")

    # An empty datastore says so (the route's 404 "matches nothing" is not an error here).
    builtin.click()
    builtin_details = section.get_by_role("group", name="Datastore workspaceblobstore details")
    expect(builtin_details).to_contain_text("No files in this datastore yet")
    builtin.click()

    # At the sidebar's default width the Pipelines section's snippet wraps instead of being cut off.
    pipelines = open_section(sidebar, "Pipelines")
    snippet = pipelines.locator("code").first.bounding_box()
    edge = sidebar.bounding_box()
    assert snippet is not None and edge is not None
    assert snippet["x"] + snippet["width"] <= edge["x"] + edge["width"], (snippet, edge)
    sidebar.get_by_role("button", name=re.compile("^Pipelines")).click()

    widen_sidebar(studio, 480)
    close_toasts(studio)
    sidebar.get_by_role("button", name=re.compile("^Datastores")).evaluate(
        "node => node.scrollIntoView({block: 'start'})"
    )
    studio.shot("datastores.png", readme=True)
    set_theme(studio, "JupyterLab Dark")
    studio.shot("datastores-dark.png")
    set_theme(studio, "JupyterLab Light")

    # Set as default: the badge moves, and the service agrees.
    details.get_by_role("button", name="Set shared_data as default").click()
    expect(toggle).to_contain_text("default")
    expect(builtin).not_to_contain_text("default")
    assert lab.get(f"workspaces/{WS}/datastores")["default"] == "shared_data"
    expect(details.get_by_role("button", name="Set shared_data as default")).to_be_disabled()

    # Unregister asks first; the record goes, the files stay.
    details.get_by_role("button", name="Unregister shared_data").click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_contain_text("Its files stay where they are")
    confirm.get_by_role("button", name="Unregister", exact=True).click()
    confirm.wait_for(state="detached")
    expect(toggle).to_have_count(0)
    assert "shared_data" not in {d["name"] for d in lab.get(f"workspaces/{WS}/datastores")["items"]}
    assert (folder / "tables" / "iris.csv").read_text() == IRIS
    assert page.get_by_role("alert").filter(has_text="internal error").count() == 0


def test_register_s3_datastore_secret_entered_once(studio: Studio, s3_server: s3.S3Server) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    bucket = "studio-bucket"
    s3_server.client().create_bucket(Bucket=bucket)
    s3_server.client().put_object(Bucket=bucket, Key="raw/part-0.csv", Body=IRIS.encode())
    wrong = "not-the-key-" + "x" * 20

    section = open_section(select_workspace(studio), "Datastores")
    section.get_by_role("button", name="Register datastore…").click()
    dialog = page.get_by_role("dialog")

    # Azure Blob is offered; without adlfs the service refuses, naming the package (its words, its hint).
    dialog.get_by_label("Kind").select_option("azure_blob")
    expect(dialog.get_by_label("Account key")).to_have_attribute("type", "password")
    dialog.get_by_label("Name", exact=True).fill("blobs")
    dialog.get_by_label("Container").fill("data")
    dialog.get_by_label("Account name").fill("myaccount")
    dialog.get_by_label("Account key").fill(wrong)
    dialog.get_by_role("button", name="Register datastore").click()
    refusal = dialog.get_by_role("alert", name="Problems")
    expect(refusal).to_contain_text("needs the adlfs package, which is not installed here")
    expect(refusal).to_contain_text("pip install adlfs")
    assert wrong not in refusal.inner_text()

    dialog.get_by_label("Kind").select_option("s3")
    secret = dialog.get_by_label("Secret access key")
    expect(secret).to_have_attribute("type", "password")
    dialog.get_by_label("Name", exact=True).fill("lake")
    dialog.get_by_label("Bucket").fill(bucket)
    dialog.get_by_label("Endpoint URL").fill(s3_server.endpoint_url)
    dialog.get_by_label("Region").fill(s3_server.region)
    dialog.get_by_label("Access key id").fill(s3_server.access_key)

    # Half a key pair is refused before anything is sent.
    dialog.get_by_role("button", name="Register datastore").click()
    problems = dialog.get_by_role("alert", name="Problems")
    expect(problems).to_contain_text("or neither (anonymous)")

    # A wrong key: the service lists the store first and refuses, naming it and not the key.
    secret.fill(wrong)
    dialog.get_by_role("button", name="Register datastore").click()
    expect(problems).to_contain_text("datastore 'lake' was not registered", timeout=60_000)
    expect(problems).to_be_in_viewport()
    assert wrong not in problems.inner_text()
    studio.shot("register-datastore.png")
    set_theme(studio, "JupyterLab Dark")
    studio.shot("register-datastore-dark.png")
    set_theme(studio, "JupyterLab Light")
    assert "lake" not in {d["name"] for d in lab.get(f"workspaces/{WS}/datastores")["items"]}

    secret.fill(s3_server.secret_key)
    dialog.get_by_role("button", name="Register datastore").click()
    dialog.wait_for(state="detached", timeout=60_000)

    details = section.get_by_role("group", name="Datastore lake details")
    about = details.get_by_label("About lake")
    expect(about).to_contain_text("S3-compatible (S3)")
    expect(about).to_contain_text(bucket)
    expect(about).to_contain_text(s3_server.endpoint_url)
    expect(about).to_contain_text("in the workspace's key vault (never shown)")
    files = details.get_by_role("table", name="Files of lake")
    files.get_by_role("button", name="Open folder raw").click()
    expect(files).to_contain_text("part-0.csv")

    # The key is nowhere on the page (text or any input's value), nor in the server's log.
    html = page.content()
    values = page.evaluate("() => Array.from(document.querySelectorAll('input')).map(i => i.value)")
    assert s3_server.secret_key not in html and wrong not in html
    assert s3_server.secret_key not in values
    log = lab.log_path.read_text(errors="replace")
    assert s3_server.secret_key not in log and wrong not in log


def test_tabular_dataset_preview_and_profile(studio: Studio, tmp_path: Path) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    folder = make_folder(tmp_path)
    lab.post(f"workspaces/{WS}/datastores", {"name": "tables", "kind": "local", "path": str(folder)})
    reader = {"format": "delimited", "separator": ","}
    lab.post(f"workspaces/{WS}/datasets", {
        "name": "iris", "description": "the iris sample",
        "definition": {"kind": "tabular", "paths": [{"datastore": "tables", "path": "tables/iris.csv"}],
                       "reader": reader},
    })
    lab.post(f"workspaces/{WS}/datasets", {
        "name": "iris", "create_new_version": True, "tags": {"stage": "all"},
        "definition": {"kind": "tabular", "paths": [{"datastore": "tables", "path": "tables/**/*.csv"}],
                       "reader": reader},
    })
    lab.post(f"workspaces/{WS}/datasets", {
        "name": "raw_files",
        "definition": {"kind": "file", "paths": [{"datastore": "tables", "path": "**"}]},
    })
    profile = lab.get(f"workspaces/{WS}/datasets/iris/versions/1/profile")

    sidebar = select_workspace(studio)
    section = open_section(sidebar, "Datasets")
    toggle = section.get_by_role("button", name="Dataset iris", exact=True)
    expect(toggle).to_contain_text("Tabular")
    expect(toggle).to_contain_text("v2")
    expect(section.get_by_role("button", name="Dataset raw_files", exact=True)).to_contain_text("File")

    toggle.click()
    details = section.get_by_role("group", name="Dataset iris details")
    about = details.get_by_label("About iris:2")
    expect(about).to_contain_text("TabularDataset")
    expect(about).to_contain_text("tables:tables/**/*.csv")
    expect(about).to_contain_text("2 files")

    # Version 1, picked from the versions.
    details.get_by_label("Version", exact=True).select_option("1")
    expect(details.get_by_label("About iris:1")).to_contain_text("the iris sample")
    details.get_by_role("tab", name="Preview").click()
    preview = details.get_by_role("table", name="Preview of iris:1")
    expect(preview.get_by_role("columnheader")).to_have_count(3)
    expect(preview.get_by_role("columnheader").first).to_contain_text("sepal_length")
    expect(preview.get_by_role("row")).to_have_count(6)  # the header and five rows
    expect(preview.get_by_role("row").nth(2)).to_contain_text("null")  # the missing sepal_width
    expect(preview).to_contain_text("versicolor")

    details.get_by_role("tab", name="Profile").click()
    table = details.get_by_role("table", name="Profile of iris:1")
    expect(details.get_by_label("Profile summary of iris:1")).to_contain_text(
        f"{profile['row_count']} rows, {profile['column_count']} columns"
    )
    columns = {c["name"]: c for c in profile["columns"]}
    width = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="sepal_width"))
    expect(width.get_by_role("cell").nth(0)).to_have_text(columns["sepal_width"]["type"])
    expect(width.get_by_role("cell").nth(1)).to_have_text("1 (20%)")
    expect(width.get_by_role("cell").nth(2)).to_have_text(str(columns["sepal_width"]["min"]))
    expect(width.get_by_role("cell").nth(3)).to_have_text(str(columns["sepal_width"]["max"]))
    length = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="sepal_length"))
    expect(length.get_by_role("cell").nth(4)).to_have_text(re.compile(r"^5\.82"))  # the mean of five values

    widen_sidebar(studio, 520)
    close_toasts(studio)
    sidebar.get_by_role("button", name=re.compile("^Datasets")).evaluate(
        "node => node.scrollIntoView({block: 'start'})"
    )
    studio.shot("datasets.png", readme=True)
    details.get_by_role("tab", name="Preview").click()
    set_theme(studio, "JupyterLab Dark")
    studio.shot("datasets-preview-dark.png")
    details.get_by_role("tab", name="Profile").click()
    studio.shot("datasets-profile-dark.png")
    set_theme(studio, "JupyterLab Light")

    # The versions, newest first; a file dataset's files.
    details.get_by_role("tab", name="Versions").click()
    versions = details.get_by_role("table", name="Versions of dataset iris")
    expect(versions.get_by_role("row")).to_have_count(3)
    expect(versions.get_by_role("row").nth(1)).to_contain_text("v2")
    section.get_by_role("button", name="Dataset raw_files", exact=True).click()
    raw = section.get_by_role("group", name="Dataset raw_files details")
    expect(raw.get_by_role("tab", name="Profile")).to_have_count(0)
    raw.get_by_role("tab", name="Files").click()
    listed = raw.get_by_role("table", name="Files of raw_files:1")
    expect(listed.get_by_role("row")).to_have_count(4)  # the header and three files
    expect(listed).to_contain_text("iris.csv")
    expect(listed).to_contain_text("readme.txt")
    assert page.get_by_role("alert").count() == 0

    # Unregister asks first; every version goes, the data stays.
    raw.get_by_role("button", name="Unregister dataset raw_files").click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_contain_text("The data stays where it is")
    confirm.get_by_role("button", name="Unregister", exact=True).click()
    confirm.wait_for(state="detached")
    expect(section.get_by_role("button", name="Dataset raw_files", exact=True)).to_have_count(0)
    assert [d["name"] for d in lab.get(f"workspaces/{WS}/datasets")["items"]] == ["iris"]
    assert (folder / "readme.txt").exists()
