from pathlib import Path

from jupyter_aml.compute.base import RunJob
from jupyter_aml.runtime import env as E


def _job(tmp_path: Path) -> RunJob:
    return RunJob(run_id="run-1", workspace="ws", experiment="exp", service_url="http://h:1/aml/api/v1/",
                  run_token="amlr_x", work_root=tmp_path, env_cache=tmp_path / "envs",
                  environment={"python": {"pip": ["six"]}}, extra_env={"FOO": "1", E.RUN_ID: "evil"})


def test_run_environment_sets_both_name_sets(tmp_path: Path) -> None:
    env = E.run_environment(_job(tmp_path))
    assert env[E.RUN_ID] == env["AZUREML_RUN_ID"] == "run-1"
    assert env[E.RUN_TOKEN] == env["AZUREML_RUN_TOKEN"] == "amlr_x"
    assert env[E.WORKSPACE] == env["AZUREML_ARM_WORKSPACE_NAME"] == "ws"
    assert env[E.EXPERIMENT] == env["AZUREML_ARM_PROJECT_NAME"] == "exp"
    assert env[E.SERVICE_URL] == env["AZUREML_SERVICE_ENDPOINT"] == "http://h:1/aml/api/v1"
    assert env[E.JOURNAL] == str(tmp_path / "run-1" / "journal" / "main.jsonl")
    assert env["FOO"] == "1"  # extra_env passes, but cannot override the run's identity


def test_agent_environment_adds_agent_settings(tmp_path: Path) -> None:
    env = E.agent_environment(_job(tmp_path))
    assert env[E.WORK_DIR] == str(tmp_path)
    assert env[E.ENV_CACHE] == str(tmp_path / "envs")
    assert '"six"' in env[E.ENVIRONMENT]


def test_context_info_round_trip(tmp_path: Path) -> None:
    info = E.RunContextInfo.from_environ(E.run_environment(_job(tmp_path)))
    assert info is not None
    assert (info.run_id, info.token, info.workspace, info.experiment) == ("run-1", "amlr_x", "ws", "exp")
    assert info.service_url == "http://h:1/aml/api/v1"
    assert info.journal and info.journal.endswith("main.jsonl")


def test_context_info_outside_a_run_and_azure_names_only() -> None:
    assert E.RunContextInfo.from_environ({}) is None
    info = E.RunContextInfo.from_environ({"AZUREML_RUN_ID": "r", "AZUREML_SERVICE_ENDPOINT": "http://x"})
    assert info is not None and info.run_id == "r" and info.journal is None
