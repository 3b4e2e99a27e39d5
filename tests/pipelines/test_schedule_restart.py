"""A schedule across a real service's death (kill -9) and restarts: the tick it missed while down fires once
when the service is back, and a further restart does not fire it again (core/schedules.py)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from azureml.pipeline.core import Pipeline, Schedule, ScheduleRecurrence
from azureml.pipeline.steps import PythonScriptStep

from tests.e2e.conftest import write_script


def _fires(ws, schedule_id: str) -> list[dict]:
    return Schedule.get(ws, schedule_id).get_fires()


def test_a_tick_missed_while_down_fires_once_and_a_restart_does_not_fire_it_again(service, tmp_path: Path) -> None:
    ws = service.workspace("sched")
    src = write_script(tmp_path / "src", "print('scheduled run')\n", "hello.py")
    published = Pipeline(ws, [PythonScriptStep("hello.py", name="hello", source_directory=str(src))]).publish("hi")
    tick = datetime.now(timezone.utc) + timedelta(seconds=3)
    schedule = Schedule.create(ws, name="hourly", pipeline_id=published.id, experiment_name="sched",
                               recurrence=ScheduleRecurrence("Hour", 1, start_time=tick))
    service.kill9()  # down before its first tick
    time.sleep(max(0.0, (tick - datetime.now(timezone.utc)).total_seconds()) + 0.5)
    service.start()
    ws = service.workspace("sched")
    deadline = time.monotonic() + 30
    # the slot is claimed (a fire without a run) before its run is submitted: wait for the run
    while not any(f["run_id"] or f["error"] for f in _fires(ws, schedule.id)) and time.monotonic() < deadline:
        time.sleep(0.2)
    fires = _fires(ws, schedule.id)
    assert [f["slot"] for f in fires] == [tick.replace(microsecond=0).isoformat()], fires
    run = Schedule.get(ws, schedule.id).get_last_pipeline_run()
    assert run is not None and run.wait_for_completion(show_output=False) == "Completed"
    assert Schedule.get(ws, schedule.id).next_fire_at.startswith((tick + timedelta(hours=1)).strftime("%Y-%m-%dT%H"))

    service.stop()  # and once more: the slot that fired stays fired
    service.start()
    ws = service.workspace("sched")
    time.sleep(1.5)
    assert len(_fires(ws, schedule.id)) == 1
