"""Scenario 3 through Experiment.submit: the run logs N metrics (one value each) and ends."""

import sys

from jupyter_aml import Run

run = Run.get_context()
for j in range(int(sys.argv[1])):
    run.log(f"metric_{j}", j / 10, step=0)
