"""``runs/log-inputs``: the datasets (``mlflow.log_input``) and logged models a run read.

Kept beside the run (core/mlflow_inputs.py: MLflow's datasets describe data, they are not files a registered
dataset could point at) and answered in ``runs/get`` and ``runs/search`` as ``inputs.dataset_inputs`` and
``inputs.model_inputs``; a v1 run's registered input datasets are among its dataset inputs too. MLflow's checks
are MLflow's own (``mlflow.utils.validation._validate_dataset_inputs``): name, digest, source type and source
are required, with MLflow's length limits, and input tags' keys and values too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_aml.core.mlflow_inputs import DatasetInput
from jupyter_aml.errors import NotFound
from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api.errors import invalid, missing
from jupyter_aml.mlflow_api.runs import Runs

MAX_DATASETS = 1000  # mlflow.utils.validation.MAX_DATASETS_PER_BATCH
LIMITS = {"name": 500, "digest": 36, "source": 65535, "schema": 1048575, "profile": 16777215}
MAX_TAG_KEY, MAX_TAG_VALUE = 255, 500


def _exceeds(what: str, limit: int) -> str:
    return f"'{what}' exceeds the maximum length of {limit} characters"


def _dataset(item: Any) -> DatasetInput:
    if not isinstance(item, dict) or not isinstance(item.get("dataset"), dict):
        raise invalid("Dataset cannot be None")
    d = item["dataset"]
    fields: dict[str, str | None] = {}
    for name in ("name", "digest", "source_type", "source", "schema", "profile"):
        value = d.get(name)
        if value is not None and not isinstance(value, str):
            raise invalid(f"Invalid value {value!r} for the dataset's {name}: it must be a string")
        fields[name] = value
    for name in ("name", "digest", "source_type", "source"):
        if fields[name] is None:
            raise invalid(f"Dataset {name} cannot be None")
    for name, limit in LIMITS.items():
        if fields[name] is not None and len(fields[name] or "") > limit:
            raise invalid(_exceeds(name, limit))
    tags: dict[str, str] = {}
    for tag in cv.objects(item, "tags"):
        key, value = tag.get("key"), tag.get("value")
        if not isinstance(key, str):
            raise invalid("InputTag key cannot be None")
        if not isinstance(value, str):
            raise invalid("InputTag value cannot be None")
        if len(key) > MAX_TAG_KEY:
            raise invalid(_exceeds("key", MAX_TAG_KEY))
        if len(value) > MAX_TAG_VALUE:
            raise invalid(_exceeds("value", MAX_TAG_VALUE))
        tags[key] = value
    return DatasetInput(name=fields["name"] or "", digest=fields["digest"] or "",
                        source_type=fields["source_type"] or "", source=fields["source"] or "",
                        schema=fields["schema"], profile=fields["profile"], tags=tags)


def log_inputs(runs: Runs, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
    run_id = cv.run_id_of(req)
    items = req.get("datasets") or []
    if not isinstance(items, list):
        raise invalid("Invalid value for parameter 'datasets' supplied: it must be a list")
    if len(items) > MAX_DATASETS:
        raise invalid(f"A batch logging request can contain at most {MAX_DATASETS} datasets. Got {len(items)} "
                      "datasets. Please split up datasets across multiple requests and try again.")
    datasets = [_dataset(i) for i in items]
    model_ids = []
    for m in cv.objects(req, "models"):
        model_id = m.get("model_id")
        if not isinstance(model_id, str) or not model_id:
            raise invalid("Missing value for required parameter 'model_id' of a model input")
        try:
            runs.models.get(workspace, model_id)
        except NotFound:
            raise missing(f"Logged model with ID '{model_id}' not found") from None
        model_ids.append(model_id)
    runs.active(workspace, run_id)
    runs.inputs.log(workspace, run_id, datasets, model_ids)
    return {}


__all__ = ["log_inputs"]
