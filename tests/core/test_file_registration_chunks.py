"""Registering many run files never holds the write lock for the whole batch (issue 8, finding 4): the batch is
checked first, outside any write transaction, then written in short chunks other writers can get in between;
re-sending is idempotent, and one request has a cap (runs on SQLite, or PostgreSQL under --database=postgresql)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from jupyter_aml.agent import outputs
from jupyter_aml.core import files as files_module
from jupyter_aml.core import models
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.errors import Busy, InvalidInput, NotFound, PayloadTooLarge
from jupyter_aml.store.db import Database
from jupyter_aml.store.tables import RunFileRow


class WriteSessions:
    """Wraps the store's write sessions: counts the registering thread's, and runs a hook after one commits."""

    def __init__(self, db: Database) -> None:
        self.inner = db.session
        self.owner = threading.get_ident()
        self.count = 0
        self.after: Any = None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[Session]:
        mine = threading.get_ident() == self.owner
        if mine:
            self.count += 1  # counted when it begins: one that fails still took the write lock
        with self.inner() as s:
            yield s
        if mine and self.after is not None:
            self.after(self.count)


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> Iterator[AMLService]:
    svc = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    svc.workspaces.get_or_create("w")
    yield svc
    svc.db.dispose()


@pytest.fixture
def sessions(service: AMLService, monkeypatch: pytest.MonkeyPatch) -> WriteSessions:
    assert isinstance(service.db, Database)
    wrapper = WriteSessions(service.db)
    monkeypatch.setattr(service.db, "session", wrapper)
    return wrapper


def _run(service: AMLService) -> str:
    return service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t").id


def _batch(service: AMLService, n: int, data: bytes = b"weights") -> models.RunFiles:
    sha = service.blobs.put_bytes(data)
    return models.RunFiles(
        files=[models.RunFile(path=f"outputs/f{i:05}.bin", sha256=sha, size=len(data)) for i in range(n)]
    )


def _stored(service: AMLService, run_id: str) -> int:
    with service.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(RunFileRow).where(RunFileRow.run_id == run_id)) or 0)


def test_a_large_batch_is_written_in_chunks_and_other_writers_get_in_between(service, sessions, monkeypatch):
    monkeypatch.setattr(files_module, "RUN_FILES_PER_TRANSACTION", 100)
    run_id = _run(service)
    batch = _batch(service, 1050)
    seen: dict[str, Any] = {}

    def other_writer_after_the_first_chunk(count: int) -> None:
        if count != 1:
            return
        errors: list[BaseException] = []

        def write() -> None:
            try:
                seen["other_run"] = _run(service)  # a different write, through the service, from another thread
            except BaseException as exc:  # asserted on below
                errors.append(exc)

        worker = threading.Thread(target=write)
        worker.start()
        worker.join(60)
        seen["alive"], seen["errors"] = worker.is_alive(), errors
        seen["stored_meanwhile"] = _stored(service, run_id)

    sessions.after = other_writer_after_the_first_chunk
    sessions.count = 0
    result = service.files.add_run_files("w", run_id, batch)

    assert sessions.count == 11  # ceil(1050 / 100) short write transactions, not one long one
    assert seen["alive"] is False and seen["errors"] == []  # the other writer was not kept out (no Busy)
    assert seen["stored_meanwhile"] == 100  # ... and it wrote while the registration was still under way
    assert service.runs.get("w", seen["other_run"]).id == seen["other_run"]
    assert _stored(service, run_id) == 1050 and len(result) == 1050
    assert [f.path for f in service.files.run_files("w", run_id)] == [f.path for f in batch.files]


@pytest.mark.parametrize("problem", ["bad path", "missing blob", "unknown run"])
def test_a_bad_batch_writes_nothing_and_takes_no_write_lock(service, sessions, monkeypatch, problem):
    monkeypatch.setattr(files_module, "RUN_FILES_PER_TRANSACTION", 100)
    run_id = _run(service)
    files = list(_batch(service, 1050).files)
    if problem == "bad path":
        files[1040] = files[1040].model_copy(update={"path": "outputs/ model.pkl"})
    elif problem == "missing blob":
        files[1040] = files[1040].model_copy(update={"sha256": "0" * 64})
    sessions.count = 0
    target = "nope" if problem == "unknown run" else run_id
    with pytest.raises(NotFound if problem == "unknown run" else InvalidInput):
        service.files.add_run_files("w", target, models.RunFiles(files=files))
    assert sessions.count == 0  # checked outside any write transaction
    assert _stored(service, run_id) == 0


def test_resending_after_a_busy_chunk_finishes_the_registration(service, sessions, monkeypatch):
    monkeypatch.setattr(files_module, "RUN_FILES_PER_TRANSACTION", 100)
    run_id = _run(service)
    batch = _batch(service, 1050)
    assert isinstance(service.db, Database)
    commits = {"n": 0}

    def lock_on_the_third(_conn: Any) -> None:
        commits["n"] += 1
        if commits["n"] == 3:
            raise sqlalchemy.exc.OperationalError("COMMIT", None, Exception("database is locked"))

    event.listen(service.db.engine, "commit", lock_on_the_third)
    try:
        with pytest.raises(Busy) as caught:
            service.files.add_run_files("w", run_id, batch)
    finally:
        event.remove(service.db.engine, "commit", lock_on_the_third)
    assert "200 of the 1050" in caught.value.message  # what is stored ...
    assert caught.value.hint is not None and "re-send the same request" in caught.value.hint  # ... and what to do
    assert caught.value.details == {"registered": 200, "files": 1050}
    assert _stored(service, run_id) == 200  # the chunks before the busy one stay: they are valid

    assert len(service.files.add_run_files("w", run_id, batch)) == 1050  # re-sending finishes it
    assert _stored(service, run_id) == 1050
    service.files.add_run_files("w", run_id, batch)  # and once more changes nothing
    assert _stored(service, run_id) == 1050

    # a path sent again with other contents takes the new blob, as it always has
    other = _batch(service, 1, data=b"retrained")
    service.files.add_run_files("w", run_id, other)
    assert service.files.run_file("w", run_id, "outputs/f00000.bin").sha256 == other.files[0].sha256
    assert _stored(service, run_id) == 1050


def test_a_path_listed_twice_in_one_batch_keeps_the_last_entry(service):
    run_id = _run(service)
    first, second = _batch(service, 1, b"one").files[0], _batch(service, 1, b"two").files[0]
    service.files.add_run_files("w", run_id, models.RunFiles(files=[first, second]))
    assert service.files.run_file("w", run_id, first.path).sha256 == second.sha256


def test_more_files_than_one_request_may_register_are_refused_with_how_to_batch(service, sessions, monkeypatch):
    monkeypatch.setattr(files_module, "MAX_RUN_FILES_PER_REQUEST", 50)
    run_id = _run(service)
    sessions.count = 0
    with pytest.raises(PayloadTooLarge) as caught:
        service.files.add_run_files("w", run_id, _batch(service, 51))
    assert caught.value.status == 413
    assert "51 files" in caught.value.message and "50" in caught.value.message
    assert caught.value.hint is not None and "batches of at most 50" in caught.value.hint
    assert sessions.count == 0 and _stored(service, run_id) == 0
    assert len(service.files.add_run_files("w", run_id, _batch(service, 50))) == 50


def test_the_run_agent_registers_outputs_in_batches_the_service_accepts():
    assert 0 < outputs.BATCH <= files_module.MAX_RUN_FILES_PER_REQUEST


async def test_the_rest_api_answers_413_over_the_cap(aml):
    from tests.server.helpers import interactive_run, sha

    run = await interactive_run(aml)
    n = files_module.MAX_RUN_FILES_PER_REQUEST + 1
    entries = [{"path": f"outputs/{i}", "sha256": sha(b"x"), "size": 1} for i in range(n)]
    status, body = await aml("POST", f"workspaces/w/runs/{run['id']}/files", {"files": entries})
    assert status == 413, body
    assert body["error"]["code"] == "PayloadTooLarge"
    assert f"{n} files" in body["error"]["message"] and "batches" in body["error"]["hint"]
