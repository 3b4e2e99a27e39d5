"""A v1 training script as Azure's samples write it: every kind of value v1's run.log keeps, unchanged."""

import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from azureml.core import Run

run = Run.get_context()
run.log("message", "Hello from run!")  # Azure's first sample logs a string
run.log("converged", True)
run.log("best_epoch", 7)  # an integer stays an integer
run.log("loss_at_start", float("nan"))  # NaN is kept, not dropped
run.log("ratio", math.inf)
for loss in [0.9, 0.5, 0.3, 0.2]:
    run.log("loss", loss)
run.log_list("fibonacci", [0, 1, 1, 2, 3, 5, 8])
for epoch in range(3):
    run.log_row("per-epoch", epoch=epoch, accuracy=0.5 + 0.1 * epoch)
run.log_table("table", {"x": [1, 2, 3], "y": [0.4, 0.6, 0.9]})
plt.plot([0, 1, 2], [0, 1, 4])
plt.title("a curve")
run.log_image("curve", plot=plt)
run.tag("stage", "demo")
os.makedirs("outputs", exist_ok=True)
with open("outputs/summary.txt", "w") as handle:
    handle.write("done\n")
print("logged every value kind to", run.id)
