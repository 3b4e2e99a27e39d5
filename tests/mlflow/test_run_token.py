"""A submitted script logs with the MLflow client into its own run with its run's token, and that token
reaches nothing else through the MLflow API: another run is "not found", a search is refused. The script's
``mlflow.end_run()`` does not end the run: its agent does, when the script exits."""

from __future__ import annotations

from pathlib import Path

from mlflow import MlflowClient

from jupyter_aml import Experiment, ScriptRunConfig
from tests.e2e.conftest import ServiceProcess, wait_status, write_script

SCRIPT = '''
import os, sys
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

os.environ["MLFLOW_TRACKING_TOKEN"] = os.environ["AML_RUN_TOKEN"]
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
import mlflow

mlflow.set_tracking_uri(os.environ["AML_SERVICE_URL"].removesuffix("/aml/api/v1") + "/aml/mlflow")
client = MlflowClient()
run_id = os.environ["AML_RUN_ID"]
with mlflow.start_run(run_id=run_id):  # the fluent API resumes the submitted run, and end_run() reports FINISHED
    mlflow.log_metric("from_mlflow", 0.5, step=3)
    mlflow.log_param("p", "x")
    mlflow.set_tag("t", "y")
    assert client.get_run(run_id).data.params["p"] == "x"
    # a logged model of its own run (what mlflow.<flavor>.log_model asks first), then its record
    from mlflow.entities import LoggedModelStatus
    model = client.create_logged_model(client.get_run(run_id).info.experiment_id, name="m", source_run_id=run_id)
    client.set_logged_model_tags(model.model_id, {"k": "v"})
    client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    print("logged model", client.get_logged_model(model.model_id).tags["k"])

    @mlflow.trace
    def traced(x):
        return x * 2

    traced(21)
mlflow.flush_trace_async_logging()
print("own trace spans", len(client.get_trace(mlflow.get_last_active_trace_id()).data.spans))
for what, call in (("other run", lambda: client.get_run(sys.argv[1])),
                   ("search", lambda: client.search_runs(["0"])),
                   ("other trace", lambda: client.get_trace(sys.argv[2])),
                   ("trace search", lambda: client.search_traces(locations=["0"]))):
    try:
        call()
    except MlflowException as exc:
        print(what, exc.error_code)
    else:
        sys.exit(f"the run token reached {what}")
'''


def test_a_run_token_reaches_its_own_run_only(mlflow_env: ServiceProcess, tmp_path: Path) -> None:
    mlflow_env.client().post("workspaces", {"name": "mlflow-runs"})
    ws = mlflow_env.workspace("mlflow-runs")
    other = Experiment(ws, "elsewhere").start_logging()
    other.complete()
    import mlflow

    mlflow.set_tracking_uri(f"http://127.0.0.1:{mlflow_env.port}/aml/mlflow/workspaces/mlflow-runs")
    mlflow.set_experiment("elsewhere")
    mlflow.trace(lambda: 1, name="not-the-runs")()  # a trace outside the run: out of the run token's reach
    other_trace = mlflow.get_last_active_trace_id()
    src = write_script(tmp_path / "proj", SCRIPT, "train.py")
    run = Experiment(ws, "mlflow-in-run").submit(ScriptRunConfig(src, "train.py", [other.id, str(other_trace)]))
    assert wait_status(run, {"Completed", "Failed"}) == "Completed", run.get_details().get("error")
    assert run.get_metrics()["from_mlflow"] == 0.5
    assert run.get_properties()["p"] == "x" and run.get_tags()["t"] == "y"
    # end_run() inside the script is recorded; the run ended when its script did (its agent said so)
    assert run.get_tags()["aml.mlflow.reported_status"] == "FINISHED"
    text = "".join(run.get_details_with_logs()["logFiles"].values())
    assert "logged model v" in text
    assert "other run RESOURCE_DOES_NOT_EXIST" in text and "search PERMISSION_DENIED" in text
    assert "own trace spans 1" in text  # its own run's trace: stored and read back with the run's token
    assert "other trace RESOURCE_DOES_NOT_EXIST" in text and "trace search PERMISSION_DENIED" in text
    seen = MlflowClient(tracking_uri=f"http://127.0.0.1:{mlflow_env.port}/aml/mlflow/workspaces/mlflow-runs")
    assert seen.get_metric_history(run.id, "from_mlflow")[0].step == 3


PLAIN = '''
import os
import mlflow  # nothing set up: the run's environment points the client at this run

mlflow.log_metric("plain", 1.5, step=2)
mlflow.log_param("lr", "0.1")
with mlflow.start_run(nested=True):
    mlflow.log_metric("inner", 2.0)
print("token is the run's", os.environ["MLFLOW_TRACKING_TOKEN"] == os.environ["AML_RUN_TOKEN"])
'''

OWN_SERVER = '''
import os
print("uri", os.environ["MLFLOW_TRACKING_URI"], "token" in str(sorted(k.lower() for k in os.environ if "MLFLOW" in k)))
'''


def test_a_plain_mlflow_client_in_a_submitted_script_logs_into_its_run(mlflow_env: ServiceProcess,
                                                                        tmp_path: Path) -> None:
    from jupyter_aml import Environment

    mlflow_env.client().post("workspaces", {"name": "mlflow-plain"})
    ws = mlflow_env.workspace("mlflow-plain")
    src = write_script(tmp_path / "plain", PLAIN, "train.py")
    run = Experiment(ws, "exp.v2").submit(ScriptRunConfig(src, "train.py"))  # a dot: MLflow sees another id form
    assert wait_status(run, {"Completed", "Failed"}) == "Completed", run.get_details().get("error")
    assert run.get_metrics()["plain"] == 1.5 and run.get_properties()["lr"] == "0.1"
    children = list(run.get_children())
    assert [c.get_metrics() for c in children] == [{"inner": 2.0}]  # the nested run is a child run, beside it
    assert "token is the run's True" in "".join(run.get_details_with_logs()["logFiles"].values())

    # the environment names a tracking server of its own: it is kept, and the run's token is not handed to it
    env = Environment("own-mlflow")
    env.python.user_managed_dependencies = True
    env.environment_variables = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9/elsewhere"}
    src = write_script(tmp_path / "own", OWN_SERVER, "show.py")
    run = Experiment(ws, "own-server").submit(ScriptRunConfig(src, "show.py", environment=env))
    assert wait_status(run, {"Completed", "Failed"}) == "Completed", run.get_details().get("error")
    assert "uri http://127.0.0.1:9/elsewhere False" in "".join(run.get_details_with_logs()["logFiles"].values())
