"""The environment variables that describe a run, for the agent and for the script it runs.

``run_environment(job)`` builds them from a :class:`~jupyter_aml.compute.base.RunJob` (any object with the
same attributes works: this module must not import the service), and ``RunContextInfo.from_environ()``
reads them back inside the run. The ``AZUREML_*`` names carry the same values so that Azure ML v1 code
that reads them keeps working.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Project names.
SERVICE_URL = "AML_SERVICE_URL"  # REST root, e.g. http://127.0.0.1:8888/aml/api/v1
RUN_ID = "AML_RUN_ID"
RUN_TOKEN = "AML_RUN_TOKEN"
WORKSPACE = "AML_WORKSPACE"
EXPERIMENT = "AML_EXPERIMENT"
JOURNAL = "AML_JOURNAL"  # path of the run's main journal file
# Agent-only settings (set by the compute backend, read by ``python -m jupyter_aml.agent``).
WORK_DIR = "AML_WORK_DIR"  # the agent works in <AML_WORK_DIR>/<run_id>/
ENV_CACHE = "AML_ENV_CACHE"  # venvs are cached in <AML_ENV_CACHE>/<sha256 of the spec>
ENVIRONMENT = "AML_ENVIRONMENT"  # JSON environment spec, used when the run record carries none
HEARTBEAT_INTERVAL = "AML_HEARTBEAT_INTERVAL"  # seconds, default 10
NODE_MEMORY_BYTES = "AML_NODE_MEMORY_BYTES"  # a cluster node's memory limit, for a Docker run's --memory
INPUT_DATASETS = "AML_INPUT_DATASETS"  # JSON {name: {mode, dataset, path}}: run.input_datasets (agent/datasets.py)
OUTPUT_DATASETS = "AML_OUTPUT_DATASETS"  # JSON {name: {path, datastore, destination}}: a run's output folders
AGENT_PYTHONPATH = "AML_AGENT_PYTHONPATH"  # PYTHONPATH entry added for the agent only (not the script)

# Azure ML v1 names, same values.
AZUREML_RUN_ID = "AZUREML_RUN_ID"
AZUREML_RUN_TOKEN = "AZUREML_RUN_TOKEN"
AZUREML_WORKSPACE = "AZUREML_ARM_WORKSPACE_NAME"
AZUREML_EXPERIMENT = "AZUREML_ARM_PROJECT_NAME"
AZUREML_SERVICE_ENDPOINT = "AZUREML_SERVICE_ENDPOINT"

AZURE_ALIASES: dict[str, str] = {
    RUN_ID: AZUREML_RUN_ID,
    RUN_TOKEN: AZUREML_RUN_TOKEN,
    WORKSPACE: AZUREML_WORKSPACE,
    EXPERIMENT: AZUREML_EXPERIMENT,
    SERVICE_URL: AZUREML_SERVICE_ENDPOINT,
}

JOURNAL_DIRNAME = "journal"
MAIN_STREAM = "main"
JOURNAL_SUFFIX = ".jsonl"


def run_dir(work_root: str | os.PathLike[str], run_id: str) -> Path:
    """The folder that belongs to one run on a compute target: ``<work_root>/<run_id>``."""
    return Path(work_root) / run_id


def journal_path(work_root: str | os.PathLike[str], run_id: str) -> Path:
    """Where the run's main journal lives: ``<work_root>/<run_id>/journal/main.jsonl``."""
    return run_dir(work_root, run_id) / JOURNAL_DIRNAME / (MAIN_STREAM + JOURNAL_SUFFIX)


def run_environment(job: Any, *, journal: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The variables a run's agent and script see (``AML_*`` plus the ``AZUREML_*`` aliases).

    ``job`` is a ``RunJob`` (run_id, workspace, experiment, service_url, run_token, work_root,
    extra_env). ``extra_env`` is applied first, so it can never override the run's identity.
    """
    env: dict[str, str] = {str(k): str(v) for k, v in (getattr(job, "extra_env", None) or {}).items()}
    values = {
        SERVICE_URL: str(job.service_url).rstrip("/"),
        RUN_ID: str(job.run_id),
        RUN_TOKEN: str(job.run_token),
        WORKSPACE: str(job.workspace),
        EXPERIMENT: str(job.experiment),
    }
    for name, value in values.items():
        env[name] = value
        env[AZURE_ALIASES[name]] = value
    env[JOURNAL] = str(journal if journal is not None else journal_path(job.work_root, job.run_id))
    return env


def mlflow_run_id(run_id: str) -> str:
    """The id MLflow's client sees for ``run_id`` (mlflow_api/ids.py says why): unchanged without a dot, else
    each ``-`` as ``-2d-`` and each ``.`` as ``-2e-``, which MLflow's run-id rule accepts."""
    if "." not in run_id:
        return run_id
    return run_id.replace("-", "-2d-").replace(".", "-2e-")


def mlflow_environment(env: Mapping[str, str]) -> dict[str, str]:
    """What a run's script needs so that a plain ``mlflow`` client logs into this very run, as in Azure ML:
    the workspace's tracking URI, the run's own token as ``MLFLOW_TRACKING_TOKEN`` (it reaches this run only),
    ``MLFLOW_RUN_ID`` (``mlflow.log_metric`` and ``mlflow.start_run()`` resume the run) and the experiment's
    name (nested runs land beside it). Nothing when the run's environment names a tracking URI of its own:
    the user's server is used, and this run's token is never sent to it."""
    if env.get("MLFLOW_TRACKING_URI"):
        return {}
    from jupyter_aml.runtime.api_transport import mlflow_uri

    try:
        uri = mlflow_uri(env.get(SERVICE_URL, "").rstrip("/"), env.get(WORKSPACE, "") or "default")
    except ValueError:  # a service URL of another shape: no MLflow API known there
        return {}
    out = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_RUN_ID": mlflow_run_id(env.get(RUN_ID, ""))}
    if env.get(RUN_TOKEN):
        out["MLFLOW_TRACKING_TOKEN"] = env[RUN_TOKEN]
    if env.get(EXPERIMENT) and not env.get("MLFLOW_EXPERIMENT_ID"):
        out["MLFLOW_EXPERIMENT_NAME"] = env[EXPERIMENT]
    return out


def agent_environment(job: Any) -> dict[str, str]:
    """``run_environment(job)`` plus the settings only the agent reads (work dir, env cache, spec)."""
    import json

    env = run_environment(job)
    env[WORK_DIR] = str(job.work_root)
    env[ENV_CACHE] = str(job.env_cache)
    spec = getattr(job, "environment", None)
    if spec:
        env[ENVIRONMENT] = json.dumps(spec, sort_keys=True)
    return env


@dataclass(frozen=True)
class RunContextInfo:
    """What a script (or the SDK inside it) knows about the run it belongs to."""

    service_url: str
    run_id: str
    token: str
    workspace: str
    experiment: str
    journal: str | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> RunContextInfo | None:
        """Read the run's variables; ``None`` outside a run (no run id or no service URL)."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(name) or env.get(AZURE_ALIASES.get(name, ""), "") or ""

        run_id, url = get(RUN_ID), get(SERVICE_URL)
        if not run_id or not url:
            return None
        return cls(
            service_url=url.rstrip("/"),
            run_id=run_id,
            token=get(RUN_TOKEN),
            workspace=get(WORKSPACE),
            experiment=get(EXPERIMENT),
            journal=env.get(JOURNAL) or None,
        )
