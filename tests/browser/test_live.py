"""The studio's live store (src/live/): a running run's page follows the push channel, and after the
channel was interrupted it catches up on what it missed (no panel handles interruptions itself).
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser import seed
from tests.browser.conftest import Studio

pytestmark = pytest.mark.browser


def test_running_run_follows_the_push_channel_and_catches_up_after_an_interruption(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    run = seed.interactive_run(lab, "live-store")
    seed.set_status(lab, run["id"], "Running")
    journal = seed.Journal(lab, run["id"])
    t0 = time.time()
    for step in range(3):
        journal.scalar("loss", 1.0 / (step + 1), step * 10, t0 + step)  # steps the script gave
        journal.scalar("seen", float(step), None, t0 + step)  # no step: the server numbers them
    journal.flush()

    studio.run_command("aml:open-run", {"runId": run["id"], "workspace": "default", "tab": "metrics"})
    page.get_by_role("img", name=re.compile(r"^Chart of loss: 3 points")).wait_for()
    page.get_by_role("img", name=re.compile(r"^Chart of seen: 3 points")).wait_for()

    # Live: new points extend the charts by push events alone (polling is off in these tests).
    for step in range(3, 5):
        journal.scalar("loss", 1.0 / (step + 1), step * 10, t0 + step)
        journal.scalar("seen", float(step), None, t0 + step)
    journal.flush()
    page.get_by_role("img", name=re.compile(r"^Chart of loss: 5 points")).wait_for()
    page.get_by_role("img", name=re.compile(r"^Chart of seen: 5 points")).wait_for()

    # Interrupted: what is logged meanwhile never arrives as events. Back online, the store reads it.
    page.context.set_offline(True)
    page.wait_for_timeout(1500)
    for step in range(5, 8):
        journal.scalar("loss", 1.0 / (step + 1), step * 10, t0 + step)
        journal.scalar("seen", float(step), None, t0 + step)
    journal.flush()
    lab.post(f"workspaces/default/runs/{run['id']}/logs", {"lines": [{"stream": "stdout", "text": "while offline"}]})
    seed.set_status(lab, run["id"], "Completed")
    page.wait_for_timeout(500)
    page.context.set_offline(False)

    loss = page.get_by_role("img", name=re.compile(r"^Chart of loss: 8 points"))
    loss.wait_for(timeout=30_000)
    seen = page.get_by_role("img", name=re.compile(r"^Chart of seen: 8 points"))
    seen.wait_for()
    del loss, seen
    page.get_by_role("group", name=re.compile("summary$")).get_by_text("Completed", exact=True).wait_for()
    page.get_by_role("tab", name="Logs").click()
    page.get_by_role("log").get_by_text("while offline").wait_for()
    history = lab.get(f"workspaces/default/runs/{run['id']}/metrics/seen")
    assert history["steps"] == [float(i) for i in range(8)]
