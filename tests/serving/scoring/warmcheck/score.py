"""Says whether it was imported by a warm replica process: scikit-learn already loaded at its first line."""

import os
import sys

WARM = "sklearn" in sys.modules  # before this script imports it
MODEL = ""


def init():
    global MODEL
    import sklearn.linear_model  # noqa: F401  - as a script that unpickles a model does
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "value.txt")) as handle:
        MODEL = handle.read().strip()


def run(raw_data):
    serving = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.getcwd()))))  # .../serving
    models = os.path.join(serving, "models")
    return {"sees_services": os.path.isdir(os.path.join(serving, "services")),
            "sees_models": os.listdir(models) if os.path.isdir(models) else [],
            "warm": WARM, "flag": os.environ.get("AML_WARM_REPLICA"), "model": MODEL,
            "service": os.environ.get("AML_SERVICE_NAME"), "greeting": os.environ.get("GREETING"),
            "cwd": os.getcwd()}
