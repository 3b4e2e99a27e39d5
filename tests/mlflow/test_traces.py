"""Traces with the real client: ``@mlflow.trace`` and ``mlflow.start_span`` with an http tracking URI store
the trace here, listed for its experiment and its run, with tags, search and deletion; roles decide."""

from __future__ import annotations

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from jupyter_aml.app import AMLApplication
from tests.e2e.conftest import ServiceProcess
from tests.mlflow.conftest import tracking_uri


@mlflow.trace
def _add(a: int, b: int) -> int:
    with mlflow.start_span("inner") as span:
        span.set_inputs({"a": a})
        span.set_outputs({"sum": a + b})
    return a + b


def test_traces_are_stored_listed_tagged_and_deleted(mlflow_env: ServiceProcess) -> None:
    exp_id = mlflow.set_experiment("mlflow-traces").experiment_id
    assert _add(1, 2) == 3
    outside = mlflow.get_last_active_trace_id()
    with mlflow.start_run() as run:
        assert _add(3, 4) == 7
    inside = mlflow.get_last_active_trace_id()
    assert outside and inside and outside != inside
    mlflow.flush_trace_async_logging()

    client = MlflowClient()
    trace = client.get_trace(inside)
    assert [s.name for s in trace.data.spans] == ["_add", "inner"]
    assert trace.data.spans[1].inputs == {"a": 3} and trace.data.spans[1].outputs == {"sum": 7}
    assert trace.info.request_metadata["mlflow.sourceRun"] == run.info.run_id
    assert trace.info.experiment_id == exp_id and trace.info.state.value == "OK"
    assert trace.info.execution_time_ms is not None and trace.info.request_time > 1_600_000_000_000

    listed = mlflow.search_traces(locations=[exp_id], return_type="list")
    assert [t.info.trace_id for t in listed] == [inside, outside]  # newest first, with their spans
    assert all(len(t.data.spans) == 2 for t in listed)
    of_run = mlflow.search_traces(locations=[exp_id], run_id=run.info.run_id, return_type="list")
    assert [t.info.trace_id for t in of_run] == [inside]
    frame = mlflow.search_traces(locations=[exp_id])
    assert len(frame) == 2

    client.set_trace_tag(outside, "quality", "good")
    assert client.get_trace(outside).info.tags["quality"] == "good"
    tagged = mlflow.search_traces(locations=[exp_id], filter_string="tags.quality = 'good'", return_type="list")
    assert [t.info.trace_id for t in tagged] == [outside]
    client.delete_trace_tag(outside, "quality")
    assert "quality" not in client.get_trace(outside).info.tags
    with pytest.raises(MlflowException) as caught:
        client.delete_trace_tag(outside, "quality")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException, match="OR") as bad:
        mlflow.search_traces(locations=[exp_id], filter_string="tags.a = '1' OR tags.b = '2'")
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE"

    assert client.delete_traces(exp_id, trace_ids=[outside]) == 1
    assert [t.info.trace_id for t in mlflow.search_traces(locations=[exp_id], return_type="list")] == [inside]
    with pytest.raises(MlflowException) as gone:
        client.get_trace(outside)
    assert gone.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.delete_traces(exp_id, max_timestamp_millis=2**62) == 1


def test_trace_roles_and_unserved_trace_routes(mlflow_env: ServiceProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    database = next((a.split("=", 1)[1] for a in mlflow_env.extra if a.startswith("--AMLExtension.database_url=")),
                    None)
    token = AMLApplication.for_database(mlflow_env.root, database).sharing().create_token("reader-tess").token
    admin = mlflow_env.client()
    admin.post("workspaces", {"name": "traces-ws"})
    admin.put("workspaces/traces-ws/members/reader-tess", {"role": "Reader"})
    uri = tracking_uri(mlflow_env, "traces-ws")
    mlflow.set_tracking_uri(uri)
    exp_id = mlflow.set_experiment("shared-traces").experiment_id
    _add(5, 6)
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id is not None
    mlflow.flush_trace_async_logging()

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)  # tess reads, but may not write
    tess = MlflowClient(tracking_uri=uri)
    assert len(tess.get_trace(trace_id).data.spans) == 2
    assert len(tess.search_traces(locations=[exp_id])) == 1
    for write in (lambda: tess.set_trace_tag(trace_id, "k", "v"),
                  lambda: tess.delete_traces(exp_id, trace_ids=[trace_id])):
        with pytest.raises(MlflowException) as caught:
            write()
        assert caught.value.error_code == "PERMISSION_DENIED"

    auth = {"Authorization": f"Bearer {mlflow_env.info()['token']}"}
    for method, path in (("POST", "api/3.0/mlflow/traces/metrics"), ("POST", "api/2.0/mlflow/traces/link-to-run"),
                         ("POST", f"api/3.0/mlflow/traces/{trace_id}/assessments")):
        answer = requests.request(method, f"{uri}/{path}", json={}, headers=auth, timeout=30)
        assert answer.status_code == 404 and answer.json()["error_code"] == "ENDPOINT_NOT_FOUND", path
    attach = requests.put(f"{uri}/api/2.0/mlflow-artifacts/artifacts/traces/{trace_id}/artifacts/attachments/x",
                          data=b"x", headers=auth, timeout=30)
    assert attach.status_code == 400 and "attachments are not served" in attach.json()["message"]
