"""A batching scoring script (dynamic batching): run_batch() gets the requests of several callers at once and
answers each with its own value, saying how large its batch was; it collects each caller's input and output
individually with ModelDataCollector.collect_batch. On demand it returns one answer too many, raises or sleeps."""

import os
import time

from azureml.monitoring import ModelDataCollector

inputs_dc = outputs_dc = None


def init():
    global inputs_dc, outputs_dc
    inputs_dc = ModelDataCollector("batch-model", designation="inputs", feature_names=["n"])
    outputs_dc = ModelDataCollector("batch-model", designation="predictions", feature_names=["doubled"])


def run_batch(requests):
    if any(r.get("boom") for r in requests):
        raise RuntimeError("secret internal detail")
    time.sleep(max(float(r.get("sleep", 0)) for r in requests))
    answers = [{"n": r.get("n"), "doubled": 2 * r.get("n", 0), "batch": len(requests), "pid": os.getpid()}
               for r in requests]
    if any(r.get("wrong_count") for r in requests):
        return [*answers, answers[0]]
    inputs_dc.collect_batch([[r.get("n", 0)] for r in requests])
    outputs_dc.collect_batch([[a["doubled"]] for a in answers])
    return answers
