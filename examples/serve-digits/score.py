"""The scoring script of the README's deploy example: Azure ML v1's init()/run() contract, unchanged.

The model is examples/train-digits' LogisticRegression, trained on pixels scaled to 0..1 (raw 0..16 / 16),
so a request sends scaled pixels: {"data": [[0.0, 0.0, 0.3125, ...64 values], ...]}.
"""

import json
import pickle

import numpy as np
from azureml.core.model import Model

model = None


def init():
    global model
    with open(Model.get_model_path("digits"), "rb") as handle:  # $AZUREML_MODEL_DIR/model.pkl
        model = pickle.load(handle)


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"], dtype=float)
    if data.ndim != 2 or data.shape[1] != 64:
        raise ValueError(f"expected rows of 64 pixels scaled to 0..1, got shape {data.shape}")
    return model.predict(data).tolist()
