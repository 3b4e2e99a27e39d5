"""A tiny scoring script: echoes the request, fails or sleeps on demand, says which process answered."""

import json
import os
import time

loaded = None


def init():
    global loaded
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "echo.txt")) as handle:
        loaded = handle.read().strip()


def run(raw_data):
    data = json.loads(raw_data)
    if data.get("boom"):
        raise RuntimeError("secret internal detail")
    if data.get("sleep"):
        time.sleep(float(data["sleep"]))
    return {"echo": data, "model": loaded, "pid": os.getpid(), "greeting": os.environ.get("GREETING")}
