"""Inside a submitted run, the run's token reads its own experiment's record (v1 scripts do
``run.experiment.id``, ``run.experiment.tags``, ``Experiment.list(ws, experiment_name=...)``), and nothing
more: another experiment is "not found" and every write to experiments is refused."""

from __future__ import annotations

import json

from jupyter_aml import Experiment, ScriptRunConfig
from tests.e2e.conftest import write_script

PROBE = """
import json, os
from azureml.core import Experiment, Run

def attempt(call):
    try:
        return ["ok", call()]
    except Exception as exc:
        return [type(exc).__name__, str(exc)]

run = Run.get_context()
exp = run.experiment
ws = exp.workspace
probe = {
    "id": exp.id,
    "tags": exp.tags,
    "listed": [e.name for e in Experiment.list(ws)],
    "by_name": [e.id for e in Experiment.list(ws, experiment_name=exp.name)],
    "all": [e.name for e in Experiment.list(ws, view_type="All")],
    "other_by_name": [e.name for e in Experiment.list(ws, experiment_name="other")],
    "other_id": attempt(lambda: Experiment(ws, "other").id),
    "set_tags": attempt(lambda: exp.set_tags({"from": "run"})),
    "archive": attempt(lambda: exp.archive()),
}
os.makedirs("outputs", exist_ok=True)
with open("outputs/probe.json", "w") as out:
    json.dump(probe, out)
"""


def test_a_run_token_reads_its_own_experiment_and_nothing_else(service, tmp_path):
    ws = service.workspace("runexp")
    other = Experiment(ws, "other")
    other.set_tags({"secret": "yes"})
    mine = Experiment(ws, "mine")
    mine.set_tags({"team": "red"})
    src = write_script(tmp_path / "proj", PROBE, "probe.py")
    run = mine.submit(ScriptRunConfig(src, "probe.py"), progress=False)
    run.wait_for_completion(raise_on_error=True)
    run.download_file("outputs/probe.json", tmp_path / "probe.json")
    probe = json.loads((tmp_path / "probe.json").read_text())

    assert probe["id"] == mine.id and probe["tags"] == {"team": "red"}
    assert probe["listed"] == ["mine"] and probe["all"] == ["mine"]  # the others are out of the token's reach
    assert probe["by_name"] == [mine.id] and probe["other_by_name"] == []
    # another experiment: not found, in a missing one's words; then get-or-create's write is refused
    assert probe["other_id"][0] == "Forbidden", probe["other_id"]
    # no writes, even to its own experiment
    assert probe["set_tags"][0] == "Forbidden" and "run" in probe["set_tags"][1]
    assert probe["archive"][0] == "Forbidden"
    assert mine.tags == {"team": "red"} and other.tags == {"secret": "yes"}
    assert mine.archived_time is None
