"""Bad input never gets a 500: each endpoint, given a valid request with one field replaced by a wrong-typed or
out-of-range value (a fixed random sample), answers a 4xx in MLflow's error shape, or a 200."""

from __future__ import annotations

import json
import random
from typing import Any

import requests
from mlflow import MlflowClient

from jupyter_aml.mlflow_api.routes import ENDPOINTS
from tests.e2e.conftest import ServiceProcess
from tests.mlflow.conftest import tracking_uri

FIELDS = ("run_id", "experiment_id", "experiment_ids", "name", "new_name", "key", "value", "timestamp", "step",
          "status", "end_time", "start_time", "run_name", "tags", "metrics", "params", "filter", "order_by",
          "max_results", "page_token", "view_type", "run_view_type", "metric_key", "experiment_name")
VALUES: tuple[Any, ...] = (None, 0, -1, 2**70, 1.5, True, "x", "", [], ["a", "b"], {}, [{}], [{"key": 1}],
                           [{"key": "k", "value": {"a": 1}}], [{"key": "m", "value": "1e999", "timestamp": 2**63}],
                           "9" * 30, "\u0000", "metrics.a > 1 AND", "eyJvZmZzZXQiOiAtMX0=", "FINISHED",
                           [{"key": "k" * 300, "value": "v"}], 1e308)
# Always tried: values past what a datetime or a double holds (each was a 500 once).
EDGES = (("runs/create", "start_time", 2**62), ("runs/update", "end_time", -(2**62)),
         ("runs/log-metric", "value", 10**400), ("runs/log-batch", "metrics", [{"key": "m", "value": 10**400}]))
RAW = (b"", b"[]", b"nul", b'{"metrics": [{"key": "m", "value": 1e999, "timestamp": 1}]}', b"\xff\xfe", b'"text"')


def test_no_endpoint_answers_a_500(mlflow_env: ServiceProcess) -> None:
    client = MlflowClient()
    exp = client.create_experiment("mlflow-bad-input")
    run_id = client.create_run(exp).info.run_id
    base = {"run_id": run_id, "experiment_id": exp, "experiment_ids": [exp], "key": "k", "value": "v",
            "metric_key": "k", "name": "bad-input-x", "experiment_name": "mlflow-bad-input", "new_name": "bad-y"}
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {mlflow_env.info()['token']}"
    url = f"{tracking_uri(mlflow_env)}/api/2.0/mlflow/"
    rng = random.Random(11)
    cases = [(name, field, value) for name in ENDPOINTS for field in FIELDS for value in VALUES]
    for name, field, value in [*EDGES, *rng.sample(cases, 150)]:
        endpoint = ENDPOINTS[name]
        request = {**base, field: value}
        if endpoint.method == "GET":
            params = {k: v if isinstance(v, str | list) else json.dumps(v) for k, v in request.items() if v is not None}
            answer = session.get(url + name, params=params, timeout=30)
        else:
            answer = session.post(url + name, data=json.dumps(request), timeout=30)
        _check(answer, f"{name} with {field}={value!r}")
    for name in ENDPOINTS:
        for raw in RAW:
            _check(session.post(url + name, data=raw, timeout=30), f"{name} with body {raw!r}")


def _check(answer: requests.Response, what: str) -> None:
    assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.text[:300]}"
    if answer.status_code >= 400:
        body = answer.json()
        assert set(body) == {"error_code", "message"} and body["message"], f"{what}: {body}"
