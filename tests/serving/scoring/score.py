"""An Azure ML v1 scoring script for the digits model, unchanged from how it would run on Azure."""

import json
import os
import pickle

import numpy as np
from azureml.core.model import Model

model = None


def init():
    global model
    path = Model.get_model_path("digits")
    assert path == os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl")
    with open(path, "rb") as handle:
        model = pickle.load(handle)
    print("model loaded from", path)


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    if data.shape[-1] != 64:
        raise ValueError(f"expected 64 features, got {data.shape[-1]}")
    version = json.loads(os.environ["AML_MODELS"])["digits"]["version"]
    return {"predictions": model.predict(data).tolist(), "version": version}
