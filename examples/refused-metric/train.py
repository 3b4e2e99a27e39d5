"""docs/reliability.md's run: 200 points of ``x`` with one value between them that no float64 holds.

The service refuses that one record (the script is not told: logging never waits for the network), stores
the other 200, and the run ends Completed with a warning saying what was refused.
"""

from azureml.core import Run

run = Run.get_context()
for step in range(100):
    run.log("x", step / 100)
run.log("x", 10**400)  # seq 101: beyond the range of a float64
for step in range(100, 200):
    run.log("x", step / 100)
