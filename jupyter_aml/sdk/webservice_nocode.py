"""No-code deployment, as Azure ML v1 had it: ``Model.deploy(ws, name, [model])`` without an inference
configuration, for a model registered with ``model_framework=Model.Framework.SCIKITLEARN``.

The scoring script is written here (load the pickled estimator, answer ``{"data": [...], "method": "predict"}``
or ``"predict_proba"``, as v1's no-code sklearn services did), and the environment pins the model's
``model_framework_version`` of scikit-learn, so the replicas unpickle it with the version that saved it.
Other frameworks are refused, saying to pass an ``InferenceConfig``.
"""

from __future__ import annotations

import builtins
import json
import tempfile
from typing import TYPE_CHECKING

from jupyter_aml.errors import InvalidInput

if TYPE_CHECKING:
    from jupyter_aml.sdk.model import Model
    from jupyter_aml.sdk.webservice import InferenceConfig

SCORE = '''"""Written by jupyter-aml for a no-code deployment of a scikit-learn model (Azure ML v1's format)."""

import json
import os
import pickle

import numpy as np

MODEL_FILE = {model_file}
model = None


def _load(path):
    if os.path.isdir(path):
        found = sorted(f for f in os.listdir(path) if f.endswith((".pkl", ".pickle", ".joblib", ".sav")))
        if not found:
            raise RuntimeError(f"no .pkl, .pickle, .joblib or .sav file in the model folder {{path}}")
        path = os.path.join(path, found[0])
    try:
        import joblib

        return joblib.load(path)
    except ImportError:
        with open(path, "rb") as handle:
            return pickle.load(handle)


def init():
    global model
    model = _load(os.path.join(os.environ["AZUREML_MODEL_DIR"], MODEL_FILE))


def run(raw_data):
    request = json.loads(raw_data)
    if not isinstance(request, dict) or "data" not in request:
        raise ValueError('send {{"data": [[...], ...], "method": "predict"}}')
    method = request.get("method", "predict")
    if method not in ("predict", "predict_proba"):
        raise ValueError(f"method must be predict or predict_proba, not {{method!r}}")
    return getattr(model, method)(np.array(request["data"])).tolist()
'''


def no_code_inference_config(models: builtins.list[Model]) -> InferenceConfig:
    """The ``InferenceConfig`` v1 made up for a framework model deployed without one."""
    from jupyter_aml.sdk.environment import Environment
    from jupyter_aml.sdk.model import Model
    from jupyter_aml.sdk.webservice import InferenceConfig

    hint = "pass inference_config=InferenceConfig(entry_script='score.py', source_directory=..., environment=...)"
    if len(models) != 1 or not isinstance(models[0], Model):
        raise InvalidInput("deploying without an inference_config works for one registered model only", hint=hint)
    model = models[0]
    if (model.model_framework or "").lower() != Model.Framework.SCIKITLEARN.lower():
        raise InvalidInput(
            f"deploying without an inference_config needs a model registered with "
            f"model_framework=Model.Framework.SCIKITLEARN; {model.id} has {model.model_framework or 'none'}",
            hint=hint)
    folder = tempfile.mkdtemp(prefix="aml-nocode-")
    with open(f"{folder}/score.py", "w") as handle:
        handle.write(SCORE.format(model_file=json.dumps(model.path)))
    version = model.model_framework_version
    env = Environment(f"sklearn-nocode-{version or 'latest'}")
    env.python.user_managed_dependencies = False
    env.add_pip_packages([f"scikit-learn=={version}" if version else "scikit-learn", "joblib", "numpy"])
    return InferenceConfig("score.py", source_directory=folder, environment=env,
                           description=f"no-code deployment of {model.id}")
