"""Round trips per run: an interactive run's complete() carries the last records with the status (one request),
and every other case (more than a batch, a report that fails) still stores every logged value before the run
ends; Experiment.submit of an unchanged folder asks nothing about its target or snapshot again."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_aml import Experiment
from jupyter_aml.errors import AMLError, ServiceUnavailable
from jupyter_aml.runtime.api import Api
from jupyter_aml.runtime.http import ServiceClient
from tests.e2e.conftest import ServiceProcess


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One service for the module's tests (each uses its own workspace)."""
    root: Path = tmp_path_factory.mktemp("completion") / "root"
    svc = ServiceProcess(root, extra=[])
    root.mkdir()
    svc.start()
    yield svc
    svc.stop()


def _count_requests(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    seen: collections.Counter[str] = collections.Counter()
    real = ServiceClient._once

    def counted(self: ServiceClient, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        seen[f"{method} {url.split('?')[0].rsplit('/', 1)[-1]}"] += 1
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(ServiceClient, "_once", counted)
    return seen


def _hold_background_shipping(run: Any) -> None:
    """The values a test logs stay unshipped until complete(), however loaded the machine: the pool's next step
    of this run is a minute away (it ships every interval while idle, 0.1 s, which a loaded CI may exceed)."""
    shipper = run._shipper.shipper
    pool = shipper._pool
    with pool._lock:
        shipper.interval = 60.0
        pool._due[shipper] = time.monotonic() + 60.0


def test_complete_is_one_request_and_stores_every_value(service, monkeypatch):
    ws = service.workspace("completion")
    exp = Experiment(ws, "completion")
    seen = _count_requests(monkeypatch)
    run = exp.start_logging(tags={f"p{j}": j for j in range(10)})
    _hold_background_shipping(run)
    for j in range(10):
        run.log(f"m{j}", j / 10, step=0)
    run.complete()
    assert seen["POST journal"] == 0 and seen["POST status"] == 1, seen
    assert sum(seen.values()) == 2, seen  # create + status: no heartbeat, no separate flush
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {f"m{j}": j / 10 for j in range(10)}
    assert run._shipper is not None and run._shipper.stopped
    with pytest.raises(AMLError, match="has ended"):
        run.log("late", 1.0)

    # nothing logged: the status alone; fail() carries the records too
    empty = exp.start_logging()
    empty.complete()
    assert empty.get_status() == "Completed" and empty.get_metrics() == {}
    failed = exp.start_logging()
    failed.log("loss", 0.25)
    failed.fail(error_details="diverged")
    assert failed.get_status() == "Failed" and failed.get_metrics() == {"loss": 0.25}


def test_more_than_a_batch_or_a_failed_report_ships_through_the_journal_first(service, monkeypatch):
    ws = service.workspace("completion2")
    exp = Experiment(ws, "completion2")
    big = exp.start_logging()
    shipper = big._shipper.shipper  # type: ignore[union-attr]
    shipper.max_records = 50  # a batch holds 50 records: 120 values are more than the status can carry
    for i in range(120):
        big.log("loss", float(i), step=i)
    big.complete()
    assert big.get_status() == "Completed"
    assert big.get_metrics()["loss"] == [float(i) for i in range(120)]

    real = Api.set_status
    calls: list[bool] = []

    def away_once(self: Api, ws_name: str, run_id: str, body: Any) -> Any:
        calls.append("journal" in body)
        if "journal" in body:
            raise ServiceUnavailable("the service is restarting")
        return real(self, ws_name, run_id, body)

    monkeypatch.setattr(Api, "set_status", away_once)
    run = exp.start_logging()
    _hold_background_shipping(run)
    run.log("acc", 0.5)
    run.log("acc", 0.75)
    run.complete()
    assert calls == [True, False]  # the merged report failed: journal route first, then the status alone
    assert run.get_status() == "Completed" and run.get_metrics() == {"acc": [0.5, 0.75]}


def test_the_status_route_stores_a_journal_batch_first_or_changes_nothing(service):
    client = service.client()
    ws = service.workspace("completion3")
    run = Experiment(ws, "completion3").start_logging()
    path = f"workspaces/completion3/runs/{run.id}"
    good = {"seq": 1, "run_id": run.id, "t": 1.0, "k": "m", "n": "loss", "v": 0.5, "s": 0}
    with pytest.raises(AMLError):  # a batch the contract refuses: the status stays as it was
        client.post(f"{path}/status", {"status": "Completed", "journal": {"stream": "main", "records": [good, 7]}})
    assert client.get(path)["status"] == "Running"
    done = client.post(f"{path}/status", {"status": "Completed", "journal": {"stream": "main", "records": [good]}})
    assert done["status"] == "Completed"
    assert run.get_metrics() == {"loss": 0.5}
    again = client.post(f"{path}/status", {"status": "Completed", "journal": {"stream": "main", "records": [good]}})
    assert again["status"] == "Completed" and run.get_metrics() == {"loss": 0.5}  # a resend stores nothing twice
    run._shipper.stop()  # type: ignore[union-attr]


def test_a_resubmit_of_an_unchanged_folder_asks_nothing_about_its_snapshot(service, monkeypatch, tmp_path):
    """Experiment.submit: the compute target and the snapshot are checked once per process, not per submit;
    a remembered snapshot the service no longer has is uploaded again (the run is still created)."""
    from jupyter_aml import ScriptRunConfig
    from jupyter_aml.sdk import submit as snapshots
    from jupyter_aml.snapshot.manifest import manifest_entries
    from jupyter_aml.snapshot.scan import scan_folder

    ws = service.workspace("completion4")
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text("print('ok')\n")
    exp = Experiment(ws, "completion4")
    cfg = ScriptRunConfig(src, "train.py")
    seen = _count_requests(monkeypatch)
    first = exp.submit(cfg, progress=False)
    assert seen["POST missing"] == 1 and seen["POST snapshots"] == 1 and seen["GET computes"] == 1, seen
    seen.clear()
    second = exp.submit(cfg, tags={"p": 1}, progress=False)
    assert dict(seen) == {"POST runs": 1}, seen  # no computes, blobs/missing or snapshots request
    assert second._details["snapshot_id"] == first._details["snapshot_id"]  # type: ignore[index]

    (src / "train.py").write_text("print('changed')\n")  # a changed folder is uploaded as before
    seen.clear()
    third = exp.submit(cfg, progress=False)
    assert seen["POST missing"] == 1 and seen["POST snapshots"] == 1, seen
    # a snapshot this process believes made, which the service does not have: created again, then the run
    (src / "other.py").write_text("x = 1\n")
    entries = manifest_entries(scan_folder(src))
    monkeypatch.setattr(snapshots, "_KNOWN_SNAPSHOTS", {snapshots._known_key(ws._api, ws.name, entries)})
    seen.clear()
    fourth = exp.submit(cfg, progress=False)
    assert seen["POST runs"] == 2 and seen["POST snapshots"] == 1, seen  # refused once, then made
    for run in (first, second, third, fourth):
        run.wait_for_completion(raise_on_error=True)
