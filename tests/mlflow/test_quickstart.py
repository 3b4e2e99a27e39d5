"""The flows MLflow's own getting-started pages teach, as a user types them, against this server: the tracking
quickstart (params, a metric, a tag, a signed model logged and registered in one call, loaded back by its URI to
predict), ``mlflow.autolog()`` on a scikit-learn fit, and the plain tracking example (metrics over steps and an
artifact file). Only the tracking URI differs from what they run against MLflow's own server."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from jupyter_aml.sdk.run import Run
from tests.e2e.conftest import ServiceProcess


def test_the_tracking_quickstart(mlflow_env: ServiceProcess) -> None:
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    params = {"solver": "lbfgs", "max_iter": 1000, "random_state": 8888}
    lr = LogisticRegression(**params).fit(X_train, y_train)
    accuracy = accuracy_score(y_test, lr.predict(X_test))

    mlflow.set_experiment("MLflow Quickstart")
    with mlflow.start_run() as run:
        mlflow.log_params(params)
        mlflow.log_metric("accuracy", accuracy)
        mlflow.set_tag("Training Info", "Basic LR model for iris data")
        signature = infer_signature(X_train, lr.predict(X_train))
        model_info = mlflow.sklearn.log_model(sk_model=lr, name="iris_model", signature=signature,
                                              input_example=X_train, registered_model_name="tracking-quickstart")
    loaded = mlflow.pyfunc.load_model(model_info.model_uri)
    assert (loaded.predict(X_test) == lr.predict(X_test)).all()
    registered = mlflow.pyfunc.load_model("models:/tracking-quickstart/1")
    assert (registered.predict(X_test[:5]) == lr.predict(X_test[:5])).all()

    seen = MlflowClient().get_run(run.info.run_id)
    assert seen.data.params == {k: str(v) for k, v in params.items()}
    assert seen.data.metrics["accuracy"] == accuracy
    assert seen.data.tags["Training Info"] == "Basic LR model for iris data"
    v1 = Run.get(mlflow_env.workspace("default"), run.info.run_id)  # the same run, through the v1 SDK
    assert v1.get_metrics()["accuracy"] == accuracy and v1.experiment.name == "MLflow Quickstart"


def test_autolog_on_a_scikit_learn_fit(mlflow_env: ServiceProcess) -> None:
    mlflow.set_experiment("autolog")
    mlflow.autolog()
    try:
        X, y = load_iris(return_X_y=True)
        with mlflow.start_run() as run:
            LogisticRegression(max_iter=300, C=0.5).fit(X, y)
    finally:
        mlflow.autolog(disable=True)
    seen = MlflowClient().get_run(run.info.run_id)
    assert seen.data.params["C"] == "0.5" and seen.data.params["max_iter"] == "300"
    assert 0.9 < seen.data.metrics["training_accuracy_score"] <= 1.0
    assert seen.data.tags["estimator_name"] == "LogisticRegression"
    model = mlflow.last_logged_model()  # autolog logs the fitted estimator as the run's model
    assert model is not None and model.source_run_id == run.info.run_id
    predicted = mlflow.pyfunc.load_model(f"models:/{model.model_id}").predict(X[:3])
    assert list(predicted) == list(LogisticRegression(max_iter=300, C=0.5).fit(X, y).predict(X[:3]))
    v1 = Run.get(mlflow_env.workspace("default"), run.info.run_id)  # what the studio and the v1 SDK show
    assert v1.get_metrics()["training_accuracy_score"] == seen.data.metrics["training_accuracy_score"]


def test_the_plain_tracking_example(mlflow_env: ServiceProcess, tmp_path: Path) -> None:
    mlflow.set_experiment("tracking-example")
    with mlflow.start_run() as run:
        mlflow.log_param("param1", np.random.randint(0, 100))
        for step in range(3):
            mlflow.log_metric("foo", float(step) / 2, step=step)
        outputs = tmp_path / "outputs"
        outputs.mkdir()
        (outputs / "test.txt").write_text("hello world!")
        mlflow.log_artifacts(str(outputs))
    client = MlflowClient()
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "foo")] == [
        (0, 0.0), (1, 0.5), (2, 1.0)]
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["test.txt"]
    back = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="test.txt",
                                                    dst_path=str(tmp_path / "back")))
    assert back.read_text() == "hello world!"
    assert client.get_run(run.info.run_id).info.status == "FINISHED"
