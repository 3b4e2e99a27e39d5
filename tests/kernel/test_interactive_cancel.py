"""Cancelling a notebook's interactive run from the studio (its REST call) stops the notebook's logging."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jupyter_aml.runtime.api import Api
from jupyter_aml.sdk.workspace import Workspace
from tests.e2e.conftest import ServiceProcess
from tests.kernel.conftest import Kernel


def test_canceling_an_interactive_run_stops_its_logging(
    service: ServiceProcess, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, kernel_env: dict[str, str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("AML_HEARTBEAT_INTERVAL", "0.3")  # the kernel inherits it: the session hears fast
    kernel = Kernel(tmp_path)
    try:
        start = kernel.run(
            "from jupyter_aml import Experiment, Workspace\n"
            f"run = Experiment(Workspace({workspace.name!r}), 'notebook').start_logging()\n"
            "run.log('before', 1.0)\nrun.flush()\n"
        )
        assert start.status == "ok", start.text
        run_id = kernel.value("run.id")
        api = Api(service.client())
        assert api.get_run(workspace.name, run_id)["status"] == "Running"

        canceled = api.cancel_run(workspace.name, run_id)  # what the studio's Cancel button sends
        assert canceled["status"] == "Canceled"
        deadline = time.monotonic() + 20
        while not kernel.value("run._shipper.stopped") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert kernel.value("run._shipper.stopped"), "the session did not hear of the cancel"
        assert "Canceled" in kernel.value("run._shipper.ended")

        after = kernel.run("run.log('after', 2.0)")
        assert after.status == "error" and after.error is not None
        assert after.error["ename"] == "RunCanceledError" and "no longer takes logged values" in after.error["evalue"]
        # the session's threads are gone: nothing keeps beating or shipping for a canceled run
        threads = kernel.value("sorted(t.name for t in __import__('threading').enumerate())")
        assert not {"aml-heartbeat", "aml-journal-shipper"} & set(threads), threads
        # finishing the cell's `with run:` / run.complete() after the cancel is quiet and changes nothing
        done = kernel.run("run.complete(); run.flush()")
        assert done.status == "ok", done.text
    finally:
        kernel.shutdown()
    names = {s["name"] for s in api.metric_summaries(workspace.name, run_id)["items"]}
    assert names == {"before"}  # the value logged after the cancel never reached the service
    assert api.get_run(workspace.name, run_id)["status"] == "Canceled"
