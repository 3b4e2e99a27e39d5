"""A v1 scoring script that collects its inputs and predictions with azureml.monitoring's ModelDataCollector."""

import json

from azureml.monitoring import ModelDataCollector

inputs_dc = prediction_dc = None


def init():
    global inputs_dc, prediction_dc
    inputs_dc = ModelDataCollector("dc-model", designation="inputs", feature_names=["a", "b"])
    prediction_dc = ModelDataCollector("dc-model", designation="predictions", feature_names=["total"])


def run(raw_data):
    rows = json.loads(raw_data)["data"]
    totals = [sum(row) for row in rows]
    inputs_dc.collect(rows)
    prediction_dc.collect(totals)
    return totals
