"""The MLflow API inside JupyterLab: mounted by the server extension, the Jupyter user's login accepted."""

from __future__ import annotations

import json
from typing import Any

from tornado.httpclient import HTTPClientError


async def test_mounted_under_the_jupyter_server_extension(jp_fetch: Any, jp_serverapp: Any) -> None:
    created = await jp_fetch("aml", "mlflow", "ajax-api", "2.0", "mlflow", "runs", "create", method="POST",
                             body=json.dumps({"experiment_id": "0", "run_name": "from-lab"}))
    resp = await jp_fetch("aml", "mlflow", "api", "2.0", "mlflow", "experiments", "get",
                          params={"experiment_id": "0"})
    assert json.loads(resp.body)["experiment"]["name"] == "Default"  # made by the run's creation (a write)
    run = json.loads(created.body)["run"]
    assert run["info"]["status"] == "RUNNING" and run["data"]["tags"][0] == {"key": "mlflow.runName",
                                                                             "value": "from-lab"}
    try:
        await jp_fetch("aml", "mlflow", "api", "2.0", "mlflow", "runs", "get", params={"run_id": "nope"})
        raise AssertionError("a missing run was found")
    except HTTPClientError as exc:
        assert exc.code == 404 and exc.response is not None
        assert json.loads(exc.response.body)["error_code"] == "RESOURCE_DOES_NOT_EXIST"
