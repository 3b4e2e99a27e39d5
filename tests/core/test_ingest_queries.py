"""A journal batch's statement count does not grow with the number of new metric names it carries.

A run's first batch names every metric once; reading and creating each series on its own made 2-3 statements per
name (a third of a 10-metric run's creation cost). The batch's series are now read in one query and created with
one flush, and a new series has no chunk to look up.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from jupyter_aml.core import models
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> AMLService:
    svc = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    svc.workspaces.get_or_create("w")
    return svc


def _statements_for(service: AMLService, names: int, seq0: int, run_id: str) -> int:
    records = [models.JournalRecord(seq=seq0 + i, run_id=run_id, t=1000.0 + i, k="m", n=f"metric_{i}", v=float(i))
               for i in range(names)]
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(service.db.engine, "before_cursor_execute", count)
    try:
        service.metrics.ingest("w", run_id, models.JournalBatch(stream="main", records=records))
    finally:
        event.remove(service.db.engine, "before_cursor_execute", count)
    return len(seen)


def test_a_batch_of_new_metrics_costs_the_same_statements_for_2_or_40_names(service: AMLService) -> None:
    small = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    large = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    assert _statements_for(service, 40, 1, large.id) == _statements_for(service, 2, 1, small.id)
    history = service.metrics.history("w", large.id, "metric_39")
    assert history.values == [39.0]  # and the points are stored


def test_a_second_batch_appends_to_the_series_the_first_made(service: AMLService) -> None:
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    _statements_for(service, 3, 1, run.id)
    _statements_for(service, 3, 4, run.id)
    assert service.metrics.history("w", run.id, "metric_2").values == [2.0, 2.0]


def _statements_to_create(service: AMLService, tags: int) -> tuple[int, models.Run]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(service.db.engine, "before_cursor_execute", count)
    try:
        run = service.runs.create("w", models.RunCreate(
            experiment="e", kind="interactive", tags={f"param_{j}": f"v{j}" for j in range(tags)},
            properties={f"p_{j}": str(j) for j in range(tags)}), submitter="t")
    finally:
        event.remove(service.db.engine, "before_cursor_execute", count)
    return len(seen), run


def test_a_new_runs_tags_and_properties_are_written_without_a_lookup_per_key(service: AMLService) -> None:
    service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")  # the experiment
    few, _ = _statements_to_create(service, 1)
    many, run = _statements_to_create(service, 20)
    assert many == few
    assert run.tags["param_19"] == "v19" and run.properties["p_19"] == "19"
    assert service.runs.get("w", run.id).tags == run.tags
