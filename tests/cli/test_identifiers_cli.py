"""The CLI names runs and counts them as the studio does (issue 16, Build 7): ``aml experiment list`` says
"2 runs (+3 child runs)" from the server's counts, run tables and ``aml run show`` print "#2" / "#1.1", a
model's run is "ids #2", and the submitter is the OS user the CLI (and the service) runs as."""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable
from pathlib import Path

from jupyter_aml import Experiment, Workspace
from tests.cli.conftest import Outcome, Service, ok

WS = "ids-cli"


def test_counts_numbers_and_submitter(aml: Callable[..., Outcome], service: Service, tmp_path: Path) -> None:
    ws = Workspace(WS, service_url=service.url, token=service.token)
    exp = Experiment(ws, "ids")
    first = exp.start_logging()
    kids = [first.child_run(name=f"trial {i}") for i in range(3)]
    for kid in kids:
        kid.complete()
    first.complete()
    second = exp.start_logging()
    (tmp_path / "m.txt").write_text("model\n")
    second.upload_file("outputs/m.txt", tmp_path / "m.txt")
    second.complete()
    second.register_model("ids-model", "outputs/m.txt")
    assert second.number == 2  # the children did not use numbers up

    listed = ok(aml("-w", WS, "experiment", "list")).stdout
    assert "2 runs (+3 child runs)" in listed, listed
    body = ok(aml("-w", WS, "--json", "experiment", "list")).json["items"][0]
    assert (body["run_count"], body["child_run_count"]) == (2, 3)
    assert "2 runs (+3 child runs)" in ok(aml("-w", WS, "workspace", "show")).stdout

    runs = ok(aml("-w", WS, "run", "list")).stdout
    assert "#1 " in runs and "#2 " in runs, runs
    shown = ok(aml("-w", WS, "run", "show", kids[1].id)).stdout
    assert "#1.2" in shown, shown
    user = getpass.getuser()
    assert re.search(rf"^submitter\s+{re.escape(user)}\s*$", shown, re.M), shown
    assert kids[1].get_details()["submittedBy"] == user == first.get_details()["submittedBy"]

    models = ok(aml("-w", WS, "model", "list")).stdout
    assert "ids #2" in models, models
    assert f"run: #2 {second.id}" in ok(aml("-w", WS, "model", "show", "ids-model")).stdout
