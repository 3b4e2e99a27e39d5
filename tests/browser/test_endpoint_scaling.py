"""Issue 13's studio items in a real JupyterLab: the endpoint page's Telemetry tab lists the service's scaling
events (here the hung-replica guard replacing a replica whose ``run()`` never returns), and the Overview tab's
Replicas table shows an autoscaled service's bounds.

``pytest -m browser tests/browser/test_endpoint_scaling.py``.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from jupyter_aml import InferenceConfig, LocalWebservice, Model, Workspace
from jupyter_aml.sdk.webservice import AksWebservice
from tests.browser import seed
from tests.browser.conftest import Studio

pytestmark = pytest.mark.browser

SCORING = Path(__file__).resolve().parents[1] / "serving" / "scoring"
WS = "scaling-ui"


def test_scaling_events_and_autoscale_bounds_on_the_endpoint_page(studio: Studio, tmp_path: Path) -> None:
    lab = studio.lab
    seed.ensure_workspace(lab, WS)
    info = json.loads((lab.aml_root / "service.json").read_text())
    ws = Workspace(WS, service_url=info["url"], token=info["token"])
    (tmp_path / "echo.txt").write_text("echo-scaling\n")
    model = Model.register(ws, tmp_path / "echo.txt", "echo")
    inference = InferenceConfig("echo.py", source_directory=SCORING)
    page = studio.page
    try:
        guarded = Model.deploy(ws, "guarded-ui", [model], inference, LocalWebservice.deploy_configuration(
            replicas=2, scoring_timeout_ms=1000, replica_overrun_limit_seconds=1))
        guarded.wait_for_deployment()
        auth = {"Authorization": f"Bearer {guarded.get_keys()[0]}"}
        assert requests.post(guarded.scoring_uri, json={"sleep": 3600}, headers=auth, timeout=30).status_code == 504
        deadline = time.monotonic() + 20
        while not guarded.get_telemetry()["events"]:
            assert time.monotonic() < deadline, "the hung replica was not replaced"
            time.sleep(0.2)
        studio.run_command("aml:open-endpoint", {"workspace": WS, "name": "guarded-ui", "tab": "telemetry"})
        events = page.get_by_role("table", name="Scaling events")
        expect(events).to_be_visible(timeout=20_000)  # a cold JupyterLab opens its first endpoint page slowly
        row = events.locator("tbody tr").first
        expect(row).to_have_attribute("data-kind", "replaced")
        expect(row).to_contain_text("Replica replaced")
        expect(row).to_contain_text("2 → 2")
        expect(row).to_contain_text("run() overran the 1 s scoring timeout")

        scaled = Model.deploy(ws, "autoscaled-ui", [model], inference, AksWebservice.deploy_configuration(
            compute_type="local", autoscale_min_replicas=1, autoscale_max_replicas=3))
        scaled.wait_for_deployment()
        studio.run_command("aml:open-endpoint", {"workspace": WS, "name": "autoscaled-ui", "tab": "overview"})
        replicas = page.get_by_role("region", name="Endpoint replicas")
        expect(replicas).to_contain_text("(1 ready; autoscaling 1\u20133 at 70% target)")
        expect(replicas.get_by_role("columnheader", name="Overdue")).to_be_visible()
    finally:  # never leave replica processes behind
        for name in ("guarded-ui", "autoscaled-ui"):
            with contextlib.suppress(Exception):
                lab.call("DELETE", f"workspaces/{WS}/endpoints/{name}")
