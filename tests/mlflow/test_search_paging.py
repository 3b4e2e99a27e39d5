"""MLflow's runs/search through the real client, run as one SQL query: keyset pages cover every run once in
MLflow's order (missing keys last), and its status names, derived tags and view types map onto the workspace."""

from __future__ import annotations

from mlflow import MlflowClient
from mlflow.entities import ViewType

from tests.e2e.conftest import ServiceProcess


def test_pages_statuses_and_derived_tags(mlflow_env: ServiceProcess) -> None:
    client = MlflowClient()
    exp = client.create_experiment("mlflow-search-paging")
    made = []
    for i in range(7):
        run = client.create_run(exp, run_name=f"r{i}")
        if i != 3:  # one run without the metric: it sorts after the others
            client.log_metric(run.info.run_id, "acc", i / 10)
        if i % 2:
            client.set_terminated(run.info.run_id, "FINISHED")
        made.append(run.info.run_id)
    seen, token = [], None
    while True:
        page = client.search_runs([exp], order_by=["metrics.acc DESC"], max_results=3, page_token=token)
        seen += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert seen == [made[i] for i in (6, 5, 4, 2, 1, 0, 3)]
    finished = client.search_runs([exp], filter_string="attributes.status = 'FINISHED'", order_by=["run_name"])
    assert [r.info.run_name for r in finished] == ["r1", "r3", "r5"]
    running = client.search_runs([exp], filter_string="status != 'FINISHED' AND tags.`mlflow.runName` LIKE 'r%'")
    assert sorted(r.info.run_name for r in running) == ["r0", "r2", "r4", "r6"]
    client.delete_run(made[0])
    assert made[0] not in [r.info.run_id for r in client.search_runs([exp])]
    assert [r.info.run_id for r in client.search_runs([exp], run_view_type=ViewType.DELETED_ONLY)] == [made[0]]
