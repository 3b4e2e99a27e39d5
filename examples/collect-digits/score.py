"""docs/data-collection.md's scoring script: examples/serve-digits' digits classifier, collecting each request's
64 pixels and its predicted digit with v1's ModelDataCollector (collected only when the web service is deployed
with collect_model_data=True; elsewhere collect() does nothing)."""

import json
import pickle

import numpy as np
from azureml.core.model import Model
from azureml.monitoring import ModelDataCollector

model = inputs_dc = prediction_dc = None


def init():
    global model, inputs_dc, prediction_dc
    with open(Model.get_model_path("digits"), "rb") as handle:
        model = pickle.load(handle)
    inputs_dc = ModelDataCollector("digits", designation="inputs", feature_names=[f"pixel_{i}" for i in range(64)])
    prediction_dc = ModelDataCollector("digits", designation="predictions", feature_names=["digit"])


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"], dtype=float)
    result = model.predict(data)
    inputs_dc.collect(data)          # queued: a writer thread of the replica writes it
    prediction_dc.collect(result)
    return result.tolist()
