"""examples/datasets-prep/prep.py: docs/datasets-in-runs.md's script, unchanged from Azure ML v1."""

import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--images")
parser.add_argument("--out")
args = parser.parse_args()
run = Run.get_context()
labels = run.input_datasets["labels"].to_pandas_dataframe()   # a TabularDataset: read in the script
print(len(os.listdir(args.images)), "images,", len(labels), "labels")
with open(os.path.join(args.out, "summary.txt"), "w") as f:  # uploaded when the run ends
    f.write("done\n")
