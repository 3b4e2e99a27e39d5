"""Published pipelines, pipeline endpoints and schedules in the studio's Pipelines section, in a real
JupyterLab, light and dark: a pipeline published twice through the SDK (one copy then disabled) is listed on
the Published tab with its version, status, step count and a copyable id; a pipeline endpoint over both copies
shows its two versions and which one is the default (moved by ``set_default_version``); a pipeline
published while the tab is open is listed once the tab is chosen again; a daily schedule shows
its target, its next fire time (the service's, from the recurrence) and that it never fired; a schedule due two seconds
after its creation shows its last firing and opens the pipeline run it started.

``pytest -m browser tests/browser/test_pipeline_studio_published.py``; ``AML_BROWSER_SCREENSHOTS=1`` also
writes docs/images/studio-pipelines-published*.png.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from azureml.pipeline.core import Pipeline, PipelineEndpoint, Schedule, ScheduleRecurrence
from azureml.pipeline.steps import PythonScriptStep
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.test_data_panels import close_toasts, set_theme
from tests.browser.test_models_endpoints import open_section
from tests.browser.test_pipeline_studio import WS, sdk_workspace

pytestmark = pytest.mark.browser


def shots(studio: Studio, name: str) -> None:
    close_toasts(studio)
    studio.shot(f"studio-pipelines-published{name}.png", readme=True)
    set_theme(studio, "JupyterLab Dark")
    studio.shot(f"studio-pipelines-published{name}-dark.png", readme=True)
    set_theme(studio, "JupyterLab Light")


def test_published_pipelines_endpoints_and_schedules(studio: Studio, tmp_path: Path) -> None:
    seed.ensure_workspace(studio.lab, WS)
    ws = sdk_workspace(studio)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text("print('a')\n")
    (src / "b.py").write_text("print('b')\n")
    steps = [PythonScriptStep(f"{n}.py", name=n, source_directory=str(src), compute_target="local")
             for n in ("a", "b")]
    pipeline = Pipeline(ws, steps=steps, description="two steps")
    first = pipeline.publish(name="nightly-score", description="nightly scoring", version="1.0")
    second = pipeline.publish(name="nightly-score", description="nightly scoring", version="2.0")
    old = pipeline.publish(name="retired", description="", version="0.1")
    old.disable()
    endpoint = PipelineEndpoint.publish(ws, name="scoring", description="batch scoring", pipeline=first)
    endpoint.add(second)
    endpoint.set_default_version("1")
    daily = ScheduleRecurrence(frequency="Day", interval=1, hours=[3], minutes=[15])
    schedule = Schedule.create(ws, name="nightly", pipeline_endpoint_id=endpoint.id, experiment_name="nightly",
                               recurrence=daily)
    assert schedule.next_fire_at is not None
    # A schedule whose first tick is in two seconds: by the Schedules tab it has fired and started a run.
    soon = Schedule.create(ws, name="soon", pipeline_id=first.id, experiment_name="scheduled",
                           recurrence=ScheduleRecurrence("Minute", 30, start_time=datetime.now(timezone.utc)
                                                         + timedelta(seconds=2)))

    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    section = open_section(sidebar, "Pipelines")
    expect(section.get_by_role("tab", name="Runs")).to_have_attribute("aria-selected", "true")
    section.get_by_role("tab", name="Schedules").click()  # the widest selection: bold text on the last tab
    tabs = section.get_by_role("tablist", name="Pipelines")
    fits = tabs.evaluate(
        "l => { const r = l.getBoundingClientRect(), top = l.children[0].getBoundingClientRect().top;"
        " return [...l.children].map(t => t.getBoundingClientRect())"
        ".map(b => [b.top === top, b.left >= r.left - 0.5 && b.right <= r.right + 0.5]); }")
    assert fits == [[True, True]] * 4, f"the four tabs fit on one line at the default sidebar width: {fits}"
    section.get_by_role("tab", name="Runs").click()

    section.get_by_role("tab", name="Published").click()
    published = section.get_by_role("list", name="Published pipelines")
    row = published.locator(f"[data-pipeline-id='{second.id}']")
    expect(row).to_contain_text("nightly-score")
    expect(row).to_contain_text("v2.0")
    expect(row).to_contain_text("2 steps")
    expect(row).to_contain_text(second.id)
    expect(row.locator("[data-status='Active']")).to_have_count(1)
    expect(published.locator(f"[data-pipeline-id='{old.id}'] [data-status='Disabled']")).to_have_count(1)
    expect(row.get_by_role("button", name="Copy the id of published pipeline nightly-score")).to_be_visible()
    shots(studio, "")

    section.get_by_role("tab", name="Endpoints").click()
    item = section.get_by_role("list", name="Pipeline endpoints").locator(f"[data-endpoint-id='{endpoint.id}']")
    expect(item).to_have_attribute("data-default-version", "1")
    expect(item).to_contain_text("2 versions · default 1")
    versions = item.get_by_role("list", name="Versions of scoring").get_by_role("listitem")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_have_attribute("data-pipeline-id", first.id)
    expect(versions.nth(0)).to_have_attribute("data-default", "false")
    expect(versions.nth(1)).to_have_attribute("data-pipeline-id", second.id)
    expect(versions.nth(1)).to_have_attribute("data-default", "true")
    expect(versions.nth(1)).to_contain_text("default")
    expect(versions.nth(0)).to_contain_text("nightly-score v1.0")
    expect(versions.nth(1)).to_contain_text("nightly-score v2.0")
    shots(studio, "-endpoints")

    # Publishing sends no push event: choosing the tab again loads the list again.
    late = pipeline.publish(name="late", description="", version="3.0")
    section.get_by_role("tab", name="Published").click()
    expect(published.locator(f"[data-pipeline-id='{late.id}']")).to_contain_text("v3.0")

    fired = studio.wait(soon.get_last_pipeline_run, timeout=60)
    section.get_by_role("tab", name="Schedules").click()
    line = section.get_by_role("list", name="Schedules").locator(f"[data-schedule-id='{schedule.id}']")
    expect(line.locator("[data-status='Active']")).to_have_count(1)
    expect(line).to_contain_text("endpoint scoring (default version) → nightly")
    expect(line).to_contain_text("every 1 day")
    expect(line).to_contain_text(re.compile(r"next \S"))
    expect(line).to_contain_text("never fired")
    # The next fire time shown is the service's: 03:15 UTC within the coming day.
    shown = datetime.fromisoformat(line.get_attribute("data-next-fire") or "")
    now = datetime.now(timezone.utc)
    assert (shown.hour, shown.minute) == (3, 15) and now < shown <= now + timedelta(days=1), shown
    shots(studio, "-schedules")

    # The one that fired: its last firing links the pipeline run it started.
    done = section.get_by_role("list", name="Schedules").locator(f"[data-schedule-id='{soon.id}']")
    expect(done).to_contain_text("pipeline nightly-score v1.0 → scheduled")
    expect(done).to_contain_text("last fired")
    done.get_by_role("button", name="Open run scheduled run").click()
    expect(studio.page.locator(f".jp-aml-RunDetails[data-run-id='{fired.id}']")).to_be_visible()
    soon.disable()
    assert fired.wait_for_completion(show_output=False) == "Completed"
