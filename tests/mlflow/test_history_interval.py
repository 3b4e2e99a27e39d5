"""``metrics/get-history-bulk-interval`` (what the MLflow UI charts with): MLflow's SQL store's sampling, checked
against the same window-function SQL run by SQLite, and the endpoint through the real server."""

from __future__ import annotations

import random
import sqlite3
import time

import requests
from mlflow import MlflowClient
from mlflow.entities import Metric

from jupyter_aml.mlflow_api.history import Point, sample
from tests.e2e.conftest import ServiceProcess
from tests.mlflow.conftest import tracking_uri

# MLflow's SqlAlchemyStore._sample_rows_with_window_functions, as SQL: NTILE buckets, each one's first row.
_SQL = """
SELECT step, ts, value FROM (
  SELECT step, ts, value, ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY step, ts, value) AS rn FROM (
    SELECT step, ts, value, NTILE(?) OVER (ORDER BY step, ts, value) AS bucket FROM m))
WHERE rn = 1 ORDER BY step, ts, value
"""


def _oracle(points: list[Point], k: int) -> list[Point]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE m (step INTEGER, ts INTEGER, value REAL)")
    db.executemany("INSERT INTO m VALUES (?, ?, ?)", points)
    rows = [tuple(r) for r in db.execute(_SQL, (k,))]
    last = db.execute("SELECT step, ts, value FROM m ORDER BY step DESC, ts DESC, value DESC LIMIT 1").fetchone()
    if last is not None and (not rows or rows[-1] != tuple(last)):
        if len(rows) >= k:
            rows[-1] = tuple(last)
        else:
            rows.append(tuple(last))
    return rows  # type: ignore[return-value]


def test_the_sample_is_mlflows_sql_sample() -> None:
    rng = random.Random(7)
    for n, k in [(0, 5), (1, 1), (5, 10), (10, 10), (11, 10), (1000, 7), (999, 1), (37, 36), (250, 2)]:
        points = [(rng.randrange(0, n + 1), rng.randrange(1000), rng.random()) for _ in range(n)]
        got = sample(points, k)
        assert got == _oracle(points, k), (n, k)
        assert len(got) <= max(k, 1) and (not points or got[-1] == max(points))


def _get(svc: ServiceProcess, **params: object) -> requests.Response:
    return requests.get(f"{tracking_uri(svc)}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
                        params=params, headers={"Authorization": f"Bearer {svc.info()['token']}"}, timeout=30)


def test_the_bulk_interval_endpoint_samples_each_run(mlflow_env: ServiceProcess) -> None:
    client = MlflowClient()
    exp = client.create_experiment("mlflow-bulk-interval")
    now = int(time.time() * 1000)
    a, b = client.create_run(exp).info.run_id, client.create_run(exp).info.run_id
    client.log_batch(a, metrics=[Metric("loss", 1 / (s + 1), now + s, s) for s in range(1000)])
    client.log_batch(b, metrics=[Metric("loss", float(s), now + s, s) for s in range(0, 40, 2)])
    answer = _get(mlflow_env, run_ids=[a, b], metric_key="loss", max_results=10)
    assert answer.status_code == 200, answer.text
    points = answer.json()["metrics"]
    of_a = [p for p in points if p["run_id"] == a]
    assert [p["step"] for p in of_a] == [0, 100, 200, 300, 400, 500, 600, 700, 800, 999]
    assert of_a[0] == {"key": "loss", "value": 1.0, "timestamp": now, "step": 0, "run_id": a}
    assert [p["step"] for p in points if p["run_id"] == b] == [0, 4, 8, 12, 16, 20, 24, 28, 32, 38]
    ranged = _get(mlflow_env, run_ids=[a], metric_key="loss", max_results=3, start_step=10, end_step=19).json()
    assert [p["step"] for p in ranged["metrics"]] == [10, 14, 19]
    assert _get(mlflow_env, run_ids=[a], metric_key="nothing").json() == {"metrics": []}

    for params, code, text in [
        ({"run_ids": [a] * 101, "metric_key": "loss"}, 400, "at most 100 run_ids. Received 101 run_ids"),
        ({"run_ids": [a], "metric_key": "loss", "max_results": 2501}, 400, "between 1 and 2500"),
        ({"run_ids": [a], "metric_key": "loss", "start_step": 3}, 400, "both must be specified"),
        ({"run_ids": [a], "metric_key": "loss", "start_step": 3, "end_step": 1}, 400, "greater than start_step"),
        ({"metric_key": "loss"}, 400, "'run_ids'"),
        ({"run_ids": [a, "no-such-run"], "metric_key": "loss"}, 404, "no-such-run"),
    ]:
        refused = _get(mlflow_env, **params)
        assert refused.status_code == code and text in refused.json()["message"], refused.text
        assert refused.json()["error_code"] == ("INVALID_PARAMETER_VALUE" if code == 400 else
                                                "RESOURCE_DOES_NOT_EXIST")
