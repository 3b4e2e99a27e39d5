"""Recovering a run's journal from disk: every stream, once, through the checks, and never through a symlink."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_aml.core import models
from jupyter_aml.core.journal_recovery import recover_journal
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.runtime.journal import JournalWriter


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> AMLService:
    svc = AMLService(ServiceSettings(root=tmp_path / "root", database_url=database_url))
    svc.workspaces.get_or_create("w")
    return svc


def _run(service: AMLService) -> str:
    return service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t").id


def _count(service: AMLService, run_id: str, name: str) -> int:
    return sum(m.count for m in service.metrics.summaries("w", run_id) if m.name == name)


def test_every_stream_is_recovered_once_and_bad_lines_are_counted(service: AMLService, tmp_path: Path) -> None:
    rid = _run(service)
    journal = tmp_path / "run" / "journal" / "main.jsonl"
    with JournalWriter(journal) as main, JournalWriter(journal, "p42") as worker:
        for i in range(300):
            main.log_metric(rid, "x", float(i), i)
        for i in range(20):
            worker.log_metric(rid, "y", float(i))
        main.log_metric(rid, "x", 10**400)  # refused alone
    shipped = models.JournalBatch(stream="main", records=[
        models.JournalRecord(seq=i + 1, run_id=rid, t=1.0, k="m", n="x", v=float(i), s=i) for i in range(100)])
    service.metrics.ingest("w", rid, shipped)  # what the agent shipped before it died
    with open(journal, "ab") as f:
        f.write(b'{"seq": 999, "run_id": "torn')  # the torn last line of a killed writer
    journal.with_name("big.jsonl").write_text(f'{{"seq": {2**63}, "run_id": "{rid}", "t": 1, "k": "m", "n": "x"}}\n')
    first = recover_journal(service.metrics, "w", rid, journal)
    assert first.read == {"big": 1, "main": 301, "p42": 20} and first.stored == 220
    assert first.rejected == 1 and first.unreadable_lines == 1 and first.unusable_seq == 1
    assert _count(service, rid, "x") == 300 and _count(service, rid, "y") == 20
    assert service.runs.get("w", rid).properties["aml.journal.rejected"] == "1"
    again = recover_journal(service.metrics, "w", rid, journal)
    assert again.stored == 0 and again.rejected == 0  # nothing twice, not even the refusal
    assert service.runs.get("w", rid).properties["aml.journal.rejected"] == "1"
    assert _count(service, rid, "x") == 300


def test_no_journal_folder_is_no_error(service: AMLService, tmp_path: Path) -> None:
    result = recover_journal(service.metrics, "w", _run(service), tmp_path / "nowhere" / "journal" / "main.jsonl")
    assert result.read == {} and result.summary() == "no journal on disk"


def test_symlinks_in_a_journal_folder_are_not_followed(service: AMLService, tmp_path: Path) -> None:
    victim_id, attacker_id = _run(service), _run(service)
    secret = tmp_path / "other" / "journal" / "main.jsonl"
    with JournalWriter(secret) as w:
        for i in range(5):
            w.log_metric(attacker_id, "stolen", float(i))  # records naming the attacker's own run
    linked_file = tmp_path / "a" / "journal"
    linked_file.mkdir(parents=True)
    os.symlink(secret, linked_file / "main.jsonl")
    linked_dir = tmp_path / "b"
    linked_dir.mkdir()
    os.symlink(secret.parent, linked_dir / "journal")
    for journal in (linked_file / "main.jsonl", linked_dir / "journal" / "main.jsonl"):
        result = recover_journal(service.metrics, "w", attacker_id, journal)
        assert result.read == {} and _count(service, attacker_id, "stolen") == 0
    assert service.metrics.summaries("w", victim_id) == []
