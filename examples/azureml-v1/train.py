"""An Azure ML v1 training script, unchanged: it imports azureml.core, which jupyter-aml provides."""

import os

from azureml.core.run import Run
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier

run = Run.get_context()
digits = load_digits()
for depth in (2, 4, 8):
    score = cross_val_score(
        DecisionTreeClassifier(max_depth=depth, random_state=0), digits.data, digits.target, cv=3
    ).mean()
    run.log("cv_accuracy", float(score))
    run.log("max_depth", depth)
os.makedirs("./outputs", exist_ok=True)
with open("./outputs/summary.txt", "w") as handle:
    handle.write(f"best cv accuracy logged to run {run.id}\n")
print("parent:", run.parent)
