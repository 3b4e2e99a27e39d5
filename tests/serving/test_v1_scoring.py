"""Scoring scripts as Azure ML v1 wrote them, over real HTTP with real replicas: inference-schema decorated
``run()`` functions (numpy, pandas and standard types) and the swagger document they declare, the payload
limit (413 with the limit and how to raise it, never a reset connection; the default takes a whole MNIST
test set), ``port=0``, tags and description, the v1 deployment configurations that are refused."""

from __future__ import annotations

import json
import sys
import warnings

import pytest
import requests

from jupyter_aml import InferenceConfig, LocalWebservice, Model, Webservice
from jupyter_aml.errors import InvalidInput, PayloadTooLarge, WebserviceException
from jupyter_aml.sdk.compute import ComputeTargetException
from jupyter_aml.sdk.webservice import AciWebservice, AksCompute, AksWebservice, ScoringRequestTooLarge
from jupyter_aml.sdk.webservice_config import DEFAULT_MAX_REQUEST_BYTES
from tests.serving.conftest import SCORING


@pytest.fixture(scope="module")
def ws(service):
    return service.workspace("v1score")


@pytest.fixture(scope="module")
def model(ws, tmp_path_factory):
    folder = tmp_path_factory.mktemp("v1-model")
    (folder / "echo.txt").write_text("v1\n")
    return Model.register(ws, folder / "echo.txt", "v1-echo")


def key_headers(svc):
    return {"Authorization": f"Bearer {svc.get_keys()[0]}"}


def test_a_numpy_decorated_run_gets_its_arrays_and_declares_its_swagger(ws, model, service):
    inference = InferenceConfig("score.py", source_directory=SCORING / "schema")
    config = LocalWebservice.deploy_configuration(port=0, tags={"area": "schema", "v": 1}, description="numpy in")
    svc = Model.deploy(ws, "numpy-schema", [model], inference, config)
    svc.wait_for_deployment()
    assert svc.state == "Healthy", svc.get_logs()
    assert svc.port and svc.port != 0 and svc.scoring_uri.endswith(f":{svc.port}/score")  # port=0: a free port
    assert svc.tags == {"area": "schema", "v": "1"} and svc.description == "numpy in"
    rest = service.client().get("workspaces/v1score/endpoints/numpy-schema")
    assert rest["tags"] == {"area": "schema", "v": "1"} and rest["description"] == "numpy in"

    ok = requests.post(svc.scoring_uri, json={"data": [[1, 2], [3, 4]]}, headers=key_headers(svc), timeout=30)
    assert ok.status_code == 200, ok.text
    assert ok.json() == [21.0, 43.0]  # [1, 2] . [1, 10]: the decorator made a numpy array of the rows
    assert svc.run({"data": [[1, 1]], "scale": 2}) == [22.0]  # the optional standard-type parameter
    assert svc.run(json.dumps({"data": [[0, 1]]})) == [10.0]

    wrong_shape = requests.post(svc.scoring_uri, json={"data": [[1, 2, 3]]}, headers=key_headers(svc), timeout=30)
    assert wrong_shape.status_code == 400
    assert "input schema" in wrong_shape.json()["error"]["message"] and "dimension" in wrong_shape.text
    unknown = requests.post(svc.scoring_uri, json={"rows": [[1, 2]]}, headers=key_headers(svc), timeout=30)
    assert unknown.status_code == 400 and "no parameter 'rows'" in unknown.json()["error"]["message"]
    missing = requests.post(svc.scoring_uri, json={"scale": 2}, headers=key_headers(svc), timeout=30)
    assert missing.status_code == 400 and "lacks 'data'" in missing.json()["error"]["message"]
    not_object = requests.post(svc.scoring_uri, json=[[1, 2]], headers=key_headers(svc), timeout=30)
    assert not_object.status_code == 400 and "JSON object" in not_object.json()["error"]["message"]
    own_failure = requests.post(svc.scoring_uri, json={"data": [[1, 2]], "scale": -1}, headers=key_headers(svc),
                                timeout=30)
    assert own_failure.status_code == 500 and own_failure.json()["error"]["code"] == "ScoringError"
    assert "negative scale" in svc.get_logs()

    swagger = requests.get(svc.swagger_uri, timeout=10).json()
    assert swagger == service.client().get("workspaces/v1score/endpoints/numpy-schema/swagger")
    service_input = swagger["definitions"]["ServiceInput"]
    assert service_input["properties"]["data"]["format"] == "numpy.ndarray"
    assert service_input["properties"]["data"]["items"]["items"]["type"] == "number"
    assert service_input["example"] == {"data": [[0.5, 1.5]], "scale": 1.0}
    assert swagger["definitions"]["ServiceOutput"]["example"] == [16.0]
    v3 = requests.get(svc.swagger_uri, params={"version": "3"}, timeout=10).json()
    assert v3["openapi"] == "3.0.1" and v3["components"]["schemas"]["ServiceInput"] == service_input
    score = v3["paths"]["/score"]["post"]
    assert score["requestBody"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ServiceInput"
    assert score["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ServiceOutput")
    assert requests.get(svc.swagger_uri, params={"version": "9"}, timeout=10).status_code == 400
    svc.delete()


def test_a_pandas_decorated_run_gets_a_dataframe(ws, model):
    inference = InferenceConfig("score_pandas.py", source_directory=SCORING / "schema")
    svc = Model.deploy(ws, "pandas-schema", [model], inference, LocalWebservice.deploy_configuration(port=None))
    svc.wait_for_deployment()
    assert svc.state == "Healthy", svc.get_logs()
    rows = [{"age": 30, "income": 10.0, "city": "Oslo"}, {"age": 40, "income": 20.0, "city": "Bari"}]
    resp = requests.post(svc.scoring_uri, json={"Inputs": rows}, headers=key_headers(svc), timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"rows": 2, "cities": ["Bari", "Oslo"], "mean_income": 15.0}
    swagger = requests.get(svc.swagger_uri, timeout=10).json()
    inputs = swagger["definitions"]["ServiceInput"]["properties"]["Inputs"]
    assert inputs["format"] == "pandas.DataFrame:records"
    assert inputs["items"]["properties"]["city"]["type"] == "string"
    assert swagger["definitions"]["ServiceOutput"]["example"] == {"rows": 1, "cities": ["Rome"], "mean_income": 1000.5}
    svc.delete()


def test_an_undecorated_run_keeps_the_raw_text_and_the_models_sample(ws, model):
    svc = Model.deploy(ws, "plain-shape", [model], InferenceConfig("shape.py", source_directory=SCORING))
    svc.wait_for_deployment()
    assert svc.run({"data": [[1, 2, 3]]}) == {"rows": 1, "columns": 3, "bytes": len('{"data": [[1, 2, 3]]}')}
    assert requests.get(svc.swagger_uri, timeout=10).json()["definitions"]["ServiceOutput"] == {}
    svc.delete()


def test_an_over_size_request_is_answered_413_with_the_limit_and_raises_webservice_exception(ws, model):
    limit = 1024 * 1024
    config = LocalWebservice.deploy_configuration(max_request_bytes=limit)
    svc = Model.deploy(ws, "small-limit", [model], InferenceConfig("shape.py", source_directory=SCORING), config)
    svc.wait_for_deployment()
    big = json.dumps({"data": [[0.123456789] * 1000] * 800})  # about 10 MiB: the client is still sending
    assert len(big) > 8 * limit

    resp = requests.post(svc.scoring_uri, data=big, headers={**key_headers(svc), "Content-Type": "application/json"},
                         timeout=60)  # no ConnectionError: the balancer reads the body before it answers
    assert resp.status_code == 413
    message = resp.json()["error"]["message"]
    assert str(limit) in message and "max_request_bytes" in message and "service.update" in message
    chunked = requests.post(svc.scoring_uri, data=iter([big[i:i + 65536].encode() for i in range(0, len(big), 65536)]),
                            headers=key_headers(svc), timeout=60)  # no Content-Length: counted as it arrives
    assert chunked.status_code == 413 and "max_request_bytes" in chunked.text

    with pytest.raises(WebserviceException) as raised:
        svc.run(big)
    assert isinstance(raised.value, ScoringRequestTooLarge) and isinstance(raised.value, PayloadTooLarge)
    assert str(limit) in str(raised.value) and "service.update(max_request_bytes=N)" in str(raised.value)

    stale = Webservice(ws, "small-limit")
    stale._details["deployment_config"]["max_request_bytes"] = 10 * limit  # as if read before a smaller limit
    with pytest.raises(ScoringRequestTooLarge, match=r"status 413.*max_request_bytes"):
        stale.run(big)

    revision = svc.revision
    svc.update(deployment_config=LocalWebservice.deploy_configuration(max_request_bytes=16 * limit,
                                                                      tags={"limit": "16m"}),
               enable_app_insights=True)  # v1's LocalWebservice.update(deployment_config=); telemetry is always kept
    assert svc.reload().run(big)["rows"] == 800
    assert svc.revision == revision and svc.tags == {"limit": "16m"}  # settings applied in place
    with pytest.raises(InvalidInput, match="keeps its port"):
        svc.update(deployment_config=LocalWebservice.deploy_configuration(port=svc.port + 1 if svc.port < 65535 else 1))
    with pytest.raises(InvalidInput, match=r"autoscale_max_replicas has no effect.*does not autoscale"):
        svc.update(autoscale_max_replicas=4)
    with pytest.raises(InvalidInput, match=r"ssl_enabled=\.\.\."):
        svc.update(ssl_enabled=True)
    svc.delete()


def test_the_default_limit_takes_a_whole_mnist_test_set(ws, model):
    svc = Model.deploy(ws, "mnist-size", [model], InferenceConfig("shape.py", source_directory=SCORING))
    svc.wait_for_deployment()
    assert svc._details["deployment_config"]["max_request_bytes"] == DEFAULT_MAX_REQUEST_BYTES == 128 * 1024 * 1024
    row = [0.0] * 600 + [0.9921568627450981, 0.3254901960784314, 0.011764705882352941, 1.0] * 46  # 784 pixels
    body = json.dumps({"data": [row] * 10_000})  # MNIST's test set scaled to 0..1: ~57 MiB of JSON
    assert len(body) > 50 * 1024 * 1024
    try:
        answer = svc.run(body, timeout=120)
    except WebserviceException:
        raise AssertionError(svc.get_logs()) from None
    assert answer == {"rows": 10_000, "columns": 784, "bytes": len(body)}
    svc.delete()


def test_v1_settings_that_cannot_be_honoured_are_refused_with_the_reason(ws, model):
    with pytest.raises(InvalidInput, match=r"num_replicas cannot be given with autoscale_enabled=True"):
        AksWebservice.deploy_configuration(autoscale_enabled=True, num_replicas=2)
    implicit = AksWebservice.deploy_configuration(cpu_cores=1, memory_gb=1)  # v1 autoscales without num_replicas
    assert implicit.replicas == 1 and implicit.compute_type == "docker" and implicit.auth_enabled
    assert implicit.autoscale_enabled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fixed = AksWebservice.deploy_configuration(num_replicas=3, cpu_cores_limit=2, memory_gb=0.5,
                                                   replica_max_concurrent_requests=2, scoring_timeout_ms=5000)
    assert (fixed.replicas, fixed.cpu_cores, fixed.memory_gb, fixed.max_concurrent_requests_per_container,
            fixed.scoring_timeout_ms) == (3, 2, 0.5, 2, 5000)
    with pytest.raises(InvalidInput, match="Azure AD tokens"):
        AksWebservice.deploy_configuration(num_replicas=1, token_auth_enabled=True)
    with pytest.raises(InvalidInput, match="plain HTTP"):
        AciWebservice.deploy_configuration(ssl_enabled=True)
    with pytest.raises(InvalidInput, match="properties"):
        AciWebservice.deploy_configuration(properties={"a": "b"})
    with pytest.warns(UserWarning, match="location has no effect"):
        AciWebservice.deploy_configuration(location="westeurope")
    with pytest.raises(InvalidInput, match="port must be"):
        LocalWebservice.deploy_configuration(port=70000)

    with pytest.raises(ComputeTargetException, match="AKS clusters"):
        AksCompute.provisioning_configuration(agent_count=3)
    with pytest.raises(ComputeTargetException, match="attaching an existing AKS cluster"):
        AksCompute.attach_configuration(resource_group="rg", cluster_name="aks")
    with pytest.raises(ComputeTargetException, match="AKS clusters"):
        AksCompute(ws, "myaks")
    with pytest.raises(InvalidInput, match="deployment_target 'myaks' is not supported"):
        target = type("AksTarget", (), {"name": "myaks"})()
        Model.deploy(ws, "on-aks", [model], InferenceConfig("shape.py", source_directory=SCORING),
                     AksWebservice.deploy_configuration(num_replicas=1), deployment_target=target)
    assert "on-aks" not in [s.name for s in Webservice.list(ws)]
    with pytest.raises(WebserviceException, match=r"Model\.package is not supported"):
        Model.package(ws, [model], InferenceConfig("shape.py", source_directory=SCORING))


def test_a_conda_file_becomes_the_services_environment(ws, model, tmp_path):
    (tmp_path / "conda.yml").write_text("name: scoring\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n"
                                        "    - six==1.17.0\n")
    inference = InferenceConfig("score.py", source_directory=SCORING / "venv", conda_file=str(tmp_path / "conda.yml"))
    svc = Model.deploy(ws, "conda-env", [model], inference)
    svc.wait_for_deployment()
    assert svc.state == "Healthy", svc.get_logs()
    answer = svc.run({"data": [1]})
    assert answer["six"] == "1.17.0" and answer["prefix"] != sys.prefix  # the conda file's venv, not ours
    svc.delete()


def test_a_scikit_learn_model_deploys_without_code(ws, model, tmp_path):
    import joblib
    import sklearn
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    digits = load_digits()
    joblib.dump(LogisticRegression(max_iter=500).fit(digits.data[:500], digits.target[:500]), tmp_path / "model.pkl")
    sk_model = Model.register(ws, tmp_path / "model.pkl", "nocode-digits", model_framework=Model.Framework.SCIKITLEARN,
                              model_framework_version=sklearn.__version__)
    svc = Model.deploy(ws, "nocode-svc", [sk_model], overwrite=True)  # v1's no-code deployment
    svc.wait_for_deployment()
    assert svc.state == "Healthy", svc.get_logs()
    rows = digits.data[1500:1503].tolist()
    assert len(svc.run(json.dumps({"data": rows, "method": "predict"}))) == 3
    probabilities = svc.run(json.dumps({"data": rows, "method": "predict_proba"}))
    assert len(probabilities) == 3 and len(probabilities[0]) == 10
    assert f"scikit-learn=={sklearn.__version__}" in json.dumps(svc.get_details()["inference_config"])
    svc.delete()
    with pytest.raises(InvalidInput, match=r"model_framework=Model\.Framework\.SCIKITLEARN"):
        Model.deploy(ws, "nocode-echo", [model])  # no framework: a scoring script is needed


def test_inference_config_conda_file_is_never_dropped(tmp_path):
    (tmp_path / "score.py").write_text("def init():\n    pass\n\ndef run(raw):\n    return raw\n")
    (tmp_path / "env.yml").write_text("name: scoring\ndependencies:\n  - python=3.11\n  - pip:\n    - six\n")
    config = InferenceConfig("score.py", source_directory=tmp_path, conda_file="env.yml")  # relative to the folder
    assert config.environment is not None and "six" in json.dumps(config.environment._definition())
    with pytest.raises(InvalidInput, match="not both"):
        InferenceConfig("score.py", source_directory=tmp_path, conda_file="env.yml", environment=config.environment)
    with pytest.raises(InvalidInput, match="does not exist"):
        InferenceConfig("score.py", source_directory=tmp_path, conda_file="missing.yml")
    with pytest.raises(InvalidInput, match="runtime 'spark-py'"):
        InferenceConfig("score.py", source_directory=tmp_path, runtime="spark-py")
