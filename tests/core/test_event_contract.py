"""The push channel's typed contract at the core: services publish event models, and a metric event's points
are exactly the points a later history read returns (server-assigned steps, no -1, nothing to renumber)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_aml.core import models
from jupyter_aml.core.events import (
    Event,
    FilesEvent,
    LogEvent,
    MetricEvent,
    ModelEvent,
    RunEvent,
    WebserviceEvent,
    parse_event,
)
from jupyter_aml.core.run_views import ActiveRun
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.server.events import encode


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> AMLService:
    svc = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    svc.workspaces.get_or_create("w")
    return svc


def _collect(service: AMLService) -> list[Event]:
    events: list[Event] = []
    service.subscribe(lambda _ws, event: events.append(event))
    return events


def _record(run_id: str, seq: int, value: float, step: float | None, name: str = "loss") -> models.JournalRecord:
    return models.JournalRecord(seq=seq, run_id=run_id, t=1000.0 + seq, k="m", n=name, v=value, s=step)


def test_metric_event_points_equal_the_stored_history_including_points_without_a_step(service: AMLService) -> None:
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    events = _collect(service)
    batches = [
        # no steps: the server numbers them 0, 1, 2 by their place in the series
        [_record(run.id, 1, 0.5, None), _record(run.id, 2, 0.25, None), _record(run.id, 3, float("nan"), None)],
        # explicit steps, then a stepless point: that one gets its index (5), not the last step + 1
        [_record(run.id, 4, 1.5, 10), _record(run.id, 5, 2.5, 20), _record(run.id, 6, 3.5, None)],
        # a replayed batch (same seqs) is acknowledged but stores and announces nothing
        [_record(run.id, 5, 9.0, 99)],
    ]
    for batch in batches:
        service.metrics.ingest("w", run.id, models.JournalBatch(stream="main", records=batch))

    metric_events = [e for e in events if isinstance(e, MetricEvent)]
    assert len(metric_events) == 2
    assert all(-1 not in e.steps for e in metric_events)
    history = service.metrics.history("w", run.id, "loss")
    assert history.steps is not None and history.times is not None
    stored = list(zip(history.steps, history.values, history.times, strict=True))
    assert [s for s, _, _ in stored] == [0.0, 1.0, 2.0, 10.0, 20.0, 5.0]
    assert stored[2][1] == "NaN"  # NaN is its marker string on both sides (runtime/metric_values.py)
    for event in metric_events:
        first = event.total - len(event.steps)
        assert list(zip(event.steps, event.values, event.times, strict=True)) == stored[first : event.total]
    assert metric_events[-1].total == history.total == 6


def test_metric_event_of_a_big_batch_carries_the_newest_points_with_their_indices(service: AMLService) -> None:
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    events = _collect(service)
    batch = [_record(run.id, i + 1, float(i), None) for i in range(2500)]
    service.metrics.ingest("w", run.id, models.JournalBatch(stream="main", records=batch))
    (event,) = [e for e in events if isinstance(e, MetricEvent)]
    assert event.total == 2500 and len(event.steps) == 1000
    assert event.steps[0] == 1500.0 and event.values[-1] == 2499.0
    history = service.metrics.history("w", run.id, "loss")
    assert history.steps is not None and history.steps[1500:] == event.steps


def test_services_publish_typed_events_that_survive_the_wire(service: AMLService) -> None:
    events = _collect(service)
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    service.files.add_logs("w", run.id, models.LogBatch(lines=[models.LogLineIn(text="hi")]), now=5.0)
    service.metrics.ingest("w", run.id, models.JournalBatch(stream="m", records=[_record(run.id, 1, 1.0, None)]))
    service.runs.set_status("w", run.id, models.StatusUpdate(status=models.RunStatus.COMPLETED))
    kinds = [type(e) for e in events]
    assert kinds == [RunEvent, LogEvent, MetricEvent, RunEvent]
    for event in events:
        data = encode(event)
        assert data.startswith(b"data: ") and data.endswith(b"\n\n")
        assert parse_event(data[6:-2]) == event
    final = events[-1]
    assert isinstance(final, RunEvent) and final.run.status == models.RunStatus.COMPLETED
    log = events[1]
    assert isinstance(log, LogEvent) and log.lines[0].text == "hi" and log.lines[0].ts == 5.0


@pytest.mark.parametrize(
    "event",
    [
        FilesEvent(run_id="r", paths=["outputs/a.txt"]),
        ModelEvent(action="registered", name="net", version=3),
        WebserviceEvent(action="deleted", name="svc"),
        MetricEvent(run_id="r", name="acc", total=1, steps=[0.0], values=[None], times=[1.5]),
    ],
)
def test_every_event_kind_round_trips_through_its_json(event: Event) -> None:
    assert parse_event(encode(event)[6:-2]) == event


def test_an_unknown_event_type_is_rejected() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        parse_event(b'{"type": "weather", "run_id": "r"}')


def test_the_run_queue_gets_domain_objects_not_store_rows(service: AMLService) -> None:
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    service.runs.set_agent("w", run.id, {"pid": 123})
    (active,) = service.runs.active_runs()
    assert active == ActiveRun(
        workspace="w", id=run.id, kind="interactive", status=models.RunStatus.RUNNING, compute_target=None,
        agent={"pid": 123},
    )
    assert service.runs.active_run(run.id) == active
    service.runs.set_status("w", run.id, models.StatusUpdate(status=models.RunStatus.CANCELED))
    assert service.runs.active_run(run.id) is None and service.runs.active_runs() == []


def test_run_response_fields_are_typed(service: AMLService) -> None:
    run = service.runs.create(
        "w",
        models.RunCreate(experiment="e", kind="interactive", git=models.GitInfo(branch="main", commit="abc")),
        submitter="t",
    )
    failed = service.runs.fail_orphan("w", run.id, "boom")
    assert isinstance(failed.git, models.GitInfo) and failed.git.branch == "main"
    assert isinstance(failed.error, models.RunError) and failed.error.message == "boom"
    dumped = failed.model_dump(mode="json")
    assert dumped["git"]["commit"] == "abc" and dumped["error"] == {
        "message": "boom", "details": None, "code": None, "exception_type": None, "exception_message": None,
        "frame": None}
