"""A v1 training script for the HyperDrive example: a quadratic bowl whose best point is lr=0.1, layers=3."""
import argparse
import math
import time

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float, default=0.01)
parser.add_argument("--layers", type=int, default=1)
parser.add_argument("--epochs", type=int, default=4)
args = parser.parse_args()

run = Run.get_context()
target = -((math.log10(args.learning_rate) + 1) ** 2) - 0.1 * (args.layers - 3) ** 2
for epoch in range(args.epochs):
    accuracy = 0.9 + target / 10 - 0.02 / (epoch + 1)
    run.log("accuracy", accuracy)
    time.sleep(0.2)
print(f"learning_rate={args.learning_rate} layers={args.layers} accuracy={accuracy:.4f}")
