"""Run numbers as v1 shows them: top-level runs #1, #2, #3 per experiment without gaps, whatever their
children; children numbered under their parent (#2.1, #2.2, #2.1.1); experiment counts that say what they
count (top-level runs, and child runs apart). Real store: SQLite, or PostgreSQL under --database=postgresql."""

from __future__ import annotations

from jupyter_aml.core import models
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings


def _service(tmp_path, database_url) -> AMLService:
    service = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    service.workspaces.get_or_create("w")
    return service


def test_top_level_runs_have_no_gaps_and_children_count_under_their_parent(tmp_path, database_url):
    service = _service(tmp_path, database_url)
    spec = models.RunCreate(experiment="e", kind="interactive")
    first = service.runs.create("w", spec, submitter="ann")
    kids = service.runs.create_children("w", first.id, models.ChildCreate(count=3), submitter="ann")
    second = service.runs.create("w", spec, submitter="ann")
    one = service.runs.create("w", spec, parent_id=second.id, submitter="ann")
    grandchild = service.runs.create("w", spec, parent_id=one.id, submitter="ann")
    two = service.runs.create("w", spec, parent_id=second.id, submitter="ann")
    third = service.runs.create("w", spec, submitter="ann")
    other = service.runs.create("w", models.RunCreate(experiment="other", kind="interactive"), submitter="ann")

    assert [(r.number, r.display_number) for r in (first, second, third)] == [(1, "1"), (2, "2"), (3, "3")]
    assert [(k.number, k.display_number) for k in kids] == [(1, "1.1"), (2, "1.2"), (3, "1.3")]
    assert [(r.number, r.display_number) for r in (one, two)] == [(1, "2.1"), (2, "2.2")]
    assert (grandchild.number, grandchild.display_number) == (1, "2.1.1")
    assert other.display_number == "1"  # per experiment
    assert service.runs.get("w", grandchild.id).display_number == "2.1.1"  # stored, not just answered once


def test_experiment_counts_top_level_runs_and_child_runs_apart(tmp_path, database_url):
    service = _service(tmp_path, database_url)
    spec = models.RunCreate(experiment="e", kind="interactive")
    parents = [service.runs.create("w", spec, submitter="ann") for _ in range(3)]
    service.runs.create_children("w", parents[0].id, models.ChildCreate(count=4), submitter="ann")
    service.runs.create("w", spec, parent_id=parents[2].id, submitter="ann")
    service.runs.create("w", models.RunCreate(experiment="empty-later", kind="interactive"), submitter="ann")

    listed = {e.name: e for e in service.workspaces.experiments("w")}
    assert (listed["e"].run_count, listed["e"].child_run_count) == (3, 5)
    assert (listed["empty-later"].run_count, listed["empty-later"].child_run_count) == (1, 0)
    one = service.workspaces.experiment("w", "e")
    assert (one.run_count, one.child_run_count) == (3, 5)
    # the same count as the experiment's run table (top-level runs)
    assert service.runs.find("w", experiment="e", root_only=True, page_size=100).total == 3


def test_children_keep_their_parents_submitter(tmp_path, database_url):
    service = _service(tmp_path, database_url)
    parent = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="ann")
    kids = service.runs.create_children("w", parent.id, models.ChildCreate(count=2), submitter=parent.submitter)
    assert {k.submitter for k in kids} == {"ann"}
