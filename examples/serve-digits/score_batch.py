"""The digits scoring script with dynamic batching: run_batch() scores the requests of several callers with one
predict() call. Deploy with max_batch_size=N (docs/deployments.md, "Dynamic batching")."""

import pickle

import numpy as np
from azureml.core.model import Model  # or: from jupyter_aml import Model


def init():
    global model
    with open(Model.get_model_path("digits"), "rb") as handle:
        model = pickle.load(handle)


def run_batch(requests):
    """``requests``: the callers' bodies, parsed from JSON ({"data": [[64 values], ...]} each), in arrival order.
    Returns one answer per request, in the same order."""
    rows = [np.asarray(request["data"], dtype=float) for request in requests]
    predictions = model.predict(np.concatenate(rows))  # one call for the whole batch
    answers, start = [], 0
    for block in rows:
        answers.append(predictions[start:start + len(block)].tolist())
        start += len(block)
    return answers
