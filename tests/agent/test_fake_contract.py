"""The agent tests' fake service speaks the real contract: real routes, records with the real fields."""

from __future__ import annotations

import hashlib
from pathlib import Path

from jupyter_aml.core import models
from jupyter_aml.runtime.api import Api
from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.server.extension import all_routes
from jupyter_aml.server.openapi import build_openapi
from tests.agent.fakeservice import ROUTES, FakeRun, FakeService


def test_fake_routes_are_routes_of_the_service() -> None:
    document = build_openapi(all_routes(), "0")
    served = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert set(ROUTES) <= served


def test_fake_run_records_validate_as_the_service_model() -> None:
    record = FakeRun("r1", run_config={"script": "train.py"}).to_dict()
    assert set(record) == set(models.Run.model_fields)
    assert models.Run.model_validate(record).run_config is not None
    assert models.Run.model_validate(FakeRun("r2").to_dict()).run_config is None


def test_fake_answers_with_the_status_codes_of_the_service(tmp_path: Path) -> None:
    document = build_openapi(all_routes(), "0")
    with FakeService() as fake:
        fake.state.add_run("r1", files={"a.txt": b"A"}).status = "Running"
        api = Api(ServiceClient(fake.url, fake.state.token))
        snapshot_id = fake.state.runs["r1"].snapshot_id
        assert snapshot_id is not None
        api.get_run("ws", "r1")
        api.download_snapshot_zip("ws", snapshot_id, tmp_path / "s.zip")
        api.heartbeat("ws", "r1")
        api.post_logs("ws", "r1", {"lines": [{"text": "x"}]})
        api.post_journal("ws", "r1", b'{"stream":"main","records":[]}')
        sha = hashlib.sha256(b"blob").hexdigest()
        api.missing_blobs("ws", [sha])
        api.put_blob("ws", sha, data=b"blob")
        api.add_run_files("ws", "r1", {"files": [{"path": "outputs/b", "sha256": sha, "size": 4}]})
        api.set_status("ws", "r1", {"status": "Completed"})
        answered = {(m, t): status for m, t, status in fake.state.answers}
    assert set(answered) == set(ROUTES)
    for (method, template), status in answered.items():
        responses = document["paths"][template][method.lower()]["responses"]
        documented = {int(code) for code in responses if code != "default"}
        assert status in documented, (method, template, status, documented)
