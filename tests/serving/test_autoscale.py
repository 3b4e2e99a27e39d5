"""Autoscaling and the hung-replica guard with real replica processes behind the real balancer.

The echo model's ``run()`` sleeps on demand, so a few client threads keep requests in flight; the policy
itself is tested alone in test_autoscale_policy.py."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from jupyter_aml import InferenceConfig, LocalWebservice, Model
from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.webservice import AksWebservice
from tests.serving.conftest import SCORING


@pytest.fixture(scope="module")
def ws(service):
    return service.workspace("scaling")


@pytest.fixture(scope="module")
def model(ws, tmp_path_factory):
    folder = tmp_path_factory.mktemp("echo-model")
    (folder / "echo.txt").write_text("echo-scaling\n")
    return Model.register(ws, folder / "echo.txt", "echo")


def post(service, body, timeout=30.0):
    key = service.get_keys()[0]
    return requests.post(service.scoring_uri, json=body, headers={"Authorization": f"Bearer {key}"},
                         timeout=timeout)


class Load:
    """``clients`` threads, each posting a request whose run() sleeps ``sleep`` s, back to back."""

    def __init__(self, service, clients: int, sleep: float) -> None:
        self.url, self.key, self.sleep = service.scoring_uri, service.get_keys()[0], sleep
        self.statuses: list[int] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(clients)]

    def _loop(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            resp = session.post(self.url, json={"sleep": self.sleep},
                                headers={"Authorization": f"Bearer {self.key}"}, timeout=30)
            self.statuses.append(resp.status_code)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


def ready_replicas(service) -> list[dict]:
    return [r for r in service.reload()._details["replicas"] if r["state"] == "ready"]


def wait_until(what, check, timeout: float) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)
    return time.monotonic() - started


def test_replicas_follow_the_load_up_and_back_down(ws, model):
    config = AksWebservice.deploy_configuration(
        compute_type="local", autoscale_min_replicas=1, autoscale_max_replicas=3, autoscale_refresh_seconds=0.3,
        autoscale_target_utilization=70, auth_enabled=True)
    svc = Model.deploy(ws, "scale-local", [model], InferenceConfig("echo.py", source_directory=SCORING), config)
    svc.wait_for_deployment()
    assert len(ready_replicas(svc)) == 1 and svc._details["deployment_config"]["autoscale_enabled"] is True
    scaler = svc.autoscaler  # v1's AksWebservice.autoscaler
    assert (scaler.autoscale_enabled, scaler.min_replicas, scaler.max_replicas, scaler.target_utilization,
            scaler.refresh_period_seconds) == (True, 1, 3, 70, 0.3)
    with Load(svc, clients=4, sleep=0.25) as load:
        wait_until("scaling up to 3 replicas", lambda: len(ready_replicas(svc)) == 3, 30)
        assert svc.num_replicas == 3
        time.sleep(0.5)
        assert svc.state == "Healthy"  # adding replicas is not a failure
    assert load.statuses and set(load.statuses) == {200}  # no request failed while replicas were added
    wait_until("scaling back down to 1 replica", lambda: len(svc.reload()._details["replicas"]) == 1, 30)
    events = svc.get_telemetry()["events"]
    ups = [e for e in events if e["kind"] == "scale_up"]
    downs = [e for e in events if e["kind"] == "scale_down"]
    assert ups and ups[0]["from_replicas"] == 1 and max(e["to_replicas"] for e in ups) == 3
    assert "in flight per replica over 70% target" in ups[0]["message"]
    assert downs and downs[-1]["to_replicas"] == 1 and "under 70% target" in downs[-1]["message"]
    assert "scaled from 1 to" in svc.get_logs()
    assert post(svc, {"x": 1}).status_code == 200

    svc.update(autoscale_min_replicas=2)  # in place: the service grows to its new minimum
    wait_until("growing to the new minimum", lambda: len(ready_replicas(svc)) == 2, 30)
    with pytest.raises(InvalidInput, match="more than autoscale_max_replicas"):
        svc.update(autoscale_min_replicas=3, autoscale_max_replicas=2)
    with pytest.raises(InvalidInput, match=r"autoscale_min_replicas \(4\) is more than autoscale_max_replicas \(3\)"):
        svc.update(autoscale_min_replicas=4)  # checked by the service against the service's maximum
    with pytest.raises(InvalidInput, match="num_replicas cannot be given with autoscale_enabled"):
        svc.update(num_replicas=2, autoscale_enabled=True)
    with pytest.raises(InvalidInput, match=r"replicas \(num_replicas\) cannot be set on an autoscaled"):
        svc.update(num_replicas=2)
    svc.delete()


def test_a_hung_run_gets_no_more_requests_and_its_replica_is_replaced(ws, model):
    config = LocalWebservice.deploy_configuration(replicas=2, scoring_timeout_ms=1000,
                                                  replica_overrun_limit_seconds=1.5)
    svc = Model.deploy(ws, "hung-local", [model], InferenceConfig("echo.py", source_directory=SCORING), config)
    svc.wait_for_deployment()
    before = {r["index"]: r["pid"] for r in ready_replicas(svc)}
    hung = post(svc, {"sleep": 3600})  # a run() that never returns
    assert hung.status_code == 504 and "1 s timeout" in hung.json()["error"]["message"]
    views = svc.reload()._details["replicas"]
    stuck = [r for r in views if r["overdue"] == 1]
    assert len(stuck) == 1 and stuck[0]["inflight"] == 1  # busy until its run() returns
    for _ in range(10):  # nothing queues behind the stuck run(): every request goes to the other replica
        started = time.monotonic()
        answer = post(svc, {"n": 1}, timeout=5)
        assert answer.status_code == 200 and time.monotonic() - started < 0.9
        assert answer.json()["pid"] != stuck[0]["pid"]
    wait_until("the hung replica being replaced",
               lambda: stuck[0]["index"] not in {r["index"] for r in svc.reload()._details["replicas"]}
               and len(ready_replicas(svc)) == 2, 20)
    after = {r["index"]: r["pid"] for r in ready_replicas(svc)}
    assert set(after) != set(before) and all(r["overdue"] == 0 for r in svc._details["replicas"])
    events = [e for e in svc.get_telemetry()["events"] if e["kind"] == "replaced"]
    assert events and f"replaced hung replica {stuck[0]['index']}" in events[0]["message"]
    assert events[0]["from_replicas"] == events[0]["to_replicas"] == 2
    assert "run() has overrun the scoring timeout" in svc.get_logs()
    assert all(post(svc, {"n": i}).status_code == 200 for i in range(4))
    svc.delete()


def test_aks_settings_are_checked_as_v1_checks_them():
    with pytest.raises(InvalidInput, match="num_replicas cannot be given with autoscale_enabled"):
        AksWebservice.deploy_configuration(autoscale_enabled=True, num_replicas=2)
    with pytest.raises(InvalidInput, match=r"autoscale_min_replicas \(5\) is more than autoscale_max_replicas \(2\)"):
        AksWebservice.deploy_configuration(autoscale_min_replicas=5, autoscale_max_replicas=2)
    with pytest.raises(InvalidInput, match="at least 1"):
        AksWebservice.deploy_configuration(autoscale_min_replicas=-1)
    for target in (0, 101):
        with pytest.raises(InvalidInput, match="percentage from 1 to 100"):
            AksWebservice.deploy_configuration(autoscale_target_utilization=target)
    with pytest.raises(InvalidInput, match="no effect without autoscaling"):
        AksWebservice.deploy_configuration(num_replicas=2, autoscale_max_replicas=4)
    implicit = AksWebservice.deploy_configuration(cpu_cores=1, memory_gb=1)  # v1: autoscale unless num_replicas
    assert implicit.autoscale_enabled and implicit.replicas == 1 and implicit.auth_enabled
    assert implicit._spec()["autoscale_enabled"] is True and "autoscale_max_replicas" not in implicit._spec()
    fixed = AksWebservice.deploy_configuration(num_replicas=3)
    assert not fixed.autoscale_enabled and fixed.replicas == 3
