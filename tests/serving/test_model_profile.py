"""Model.profile as v1: a bounded load test of a temporary replica (real processes, real HTTP) reporting
requests/s, latency percentiles, the replica's CPU and memory and a recommendation; the temporary service is
always removed; a scoring script that cannot serve fails Model.profile at once with its error."""

from __future__ import annotations

import json

import pytest

from jupyter_aml import InferenceConfig, Model, Webservice
from jupyter_aml.errors import InvalidInput, WebserviceException
from jupyter_aml.sdk.profile import ModelProfile, _round_up, tree_usage
from tests.serving.conftest import SCORING


@pytest.fixture(scope="module")
def ws(service):
    return service.workspace("profiling")


@pytest.fixture(scope="module")
def model(ws, tmp_path_factory):
    folder = tmp_path_factory.mktemp("profile-model")
    (folder / "echo.txt").write_text("profiled\n")
    return Model.register(ws, folder / "echo.txt", "profiled-echo")


def _services(ws) -> list[str]:
    return [s.name for s in Webservice.list(ws)]


def test_a_profile_reports_throughput_latency_cpu_memory_and_a_recommendation(ws, model, capsys):
    samples = [json.dumps({"n": i}) for i in range(5)]
    profile = Model.profile(ws, "echo-profile", [model], InferenceConfig("echo.py", source_directory=SCORING),
                            sample_requests=samples, requests=150, concurrency=2, cpu=1, memory_in_gb=0.5)
    assert isinstance(profile, ModelProfile)
    profile.wait_for_completion(show_output=True)
    details = profile.get_details()
    assert details["state"] == "Succeeded", details
    assert details["totalQueries"] == 150 and details["successQueries"] == 150 and details["successRate"] == 1.0
    assert details["requestedCpu"] == 1 and details["requestedMemoryInGB"] == 0.5
    assert 5 < details["measuredQueriesPerSecond"] < 20_000
    p50, p90, p99 = (details[f"latencyPercentile{q}InMs"] for q in (50, 90, 99))
    assert 0 < p50 <= p90 <= p99 < 5_000
    assert 0 < details["maxUtilizedMemoryInGB"] < 4  # a python replica: tens of MB
    assert details["measuredCpu"] is not None and 0 < details["measuredCpu"] <= details["maxUtilizedCpu"] + 1e-6
    assert details["recommendedCpu"] >= 0.1 and details["recommendedCpu"] >= round(details["measuredCpu"] * 1.25, 1)
    assert details["recommendedMemoryInGB"] >= details["maxUtilizedMemoryInGB"] * 1.25 - 1e-9
    assert not any(name.startswith("profile-") for name in _services(ws))  # the temporary replica is gone
    printed = capsys.readouterr().out
    assert "recommended cpu" in printed and "requests/s" in printed
    # kept on the model version, found again by name
    again = ModelProfile(ws, "echo-profile")
    assert again.get_details()["recommendedCpu"] == details["recommendedCpu"]
    assert json.loads(Model(ws, "profiled-echo").properties["profile.echo-profile"])["state"] == "Succeeded"


def test_a_scoring_script_that_cannot_serve_fails_the_profile_and_leaves_nothing(ws, model):
    with pytest.raises(WebserviceException, match="the scoring script cannot serve") as caught:
        Model.profile(ws, "broken", [model], InferenceConfig("score.py", source_directory=SCORING / "broken"),
                      sample_requests=["{}"])
    assert "init()" in caught.value.message
    with pytest.raises(WebserviceException, match="failed the first sample request"):
        Model.profile(ws, "boom", [model], InferenceConfig("echo.py", source_directory=SCORING),
                      sample_requests=[json.dumps({"boom": True})])
    assert not any(name.startswith("profile-") for name in _services(ws))
    with pytest.raises(InvalidInput, match="sample requests"):
        Model.profile(ws, "nothing", [model], InferenceConfig("echo.py", source_directory=SCORING))


def test_the_recommendation_rounding_and_the_process_tree_reader():
    assert _round_up(0.01) == 0.1 and _round_up(0.3) == 0.3 and _round_up(0.31) == 0.4
    import os

    cpu, rss = tree_usage([os.getpid()])
    assert cpu > 0 and rss > 10 * 1024 * 1024
    assert tree_usage([2**22 + 12345]) is None  # no such process: not measured


def test_aml_model_profile_on_the_command_line(service, model, tmp_path):
    from tests.cli.conftest import Service, run_cli

    info = service.info()
    cli = Service(root=service.root, url=info["url"], token=info["token"],
                  env={"JUPYTER_AML_URL": info["url"], "JUPYTER_AML_TOKEN": info["token"]})
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"n": 1}\n{"n": 2}\n')
    done = run_cli(cli, "-w", "profiling", "model", "profile", f"{model.name}:{model.version}", "--entry-script",
                   "echo.py", "--source-directory", str(SCORING), "--sample", str(samples), "--requests", "40",
                   cwd=tmp_path)
    assert done.exit_code == 0, done.stderr
    assert "recommended cpu" in done.stdout and "requests/s at concurrency 2" in done.stdout
    as_json = run_cli(cli, "-w", "profiling", "--json", "model", "profile", model.name, "-e", "echo.py", "-s",
                      str(SCORING), "--sample", str(samples), "--requests", "20", "--name", "cli-json", cwd=tmp_path)
    assert as_json.exit_code == 0, as_json.stderr
    assert as_json.json["state"] == "Succeeded" and as_json.json["totalQueries"] == 20
    assert as_json.json["recommendedMemoryInGB"] >= 0.1


def test_v1s_input_dataset_of_request_bodies(ws, model, tmp_path):
    from jupyter_aml.sdk.dataset import Dataset

    (tmp_path / "requests.csv").write_text('body\n"{""n"": 1}"\n"{""n"": 2}"\n')
    store = ws.get_default_datastore()
    store.upload_files([str(tmp_path / "requests.csv")], target_path="profiling", overwrite=True)
    dataset = Dataset.Tabular.from_delimited_files(path=(store, "profiling/requests.csv"))
    profile = Model.profile(ws, "from-dataset", [model], InferenceConfig("echo.py", source_directory=SCORING),
                            input_dataset=dataset, requests=20)
    profile.wait_for_completion()
    assert profile.get_details()["state"] == "Succeeded" and profile.get_details()["successQueries"] == 20
    two_columns = tmp_path / "two.csv"
    two_columns.write_text("a,b\n1,2\n")
    store.upload_files([str(two_columns)], target_path="profiling", overwrite=True)
    with pytest.raises(InvalidInput, match="exactly one column"):
        Model.profile(ws, "bad", [model], InferenceConfig("echo.py", source_directory=SCORING),
                      input_dataset=Dataset.Tabular.from_delimited_files(path=(store, "profiling/two.csv")))
