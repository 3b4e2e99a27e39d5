"""Service methods that handlers only call: the endpoint test request's HTTP sender and run principals."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jupyter_aml.core import models
from jupyter_aml.core.endpoint_test import TEST_MAX_RESPONSE, post
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.errors import Unauthorized
from jupyter_aml.store.tables import RunRow
from tests.e2e.conftest import free_port


class Scoring(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/slow":
            time.sleep(2)
        size = 2 * TEST_MAX_RESPONSE if self.path == "/big" else 0
        auth = (self.headers["Authorization"] or "").encode()
        answer = b"x" * size if size else b'{"echo": ' + body + b', "auth": "' + auth + b'"}'
        self.send_response(418 if self.path == "/teapot" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-ms-request-id", "req-1")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scoring() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scoring)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_answer_comes_back_as_data(scoring: str):
    result = post(f"{scoring}/score", b"[1, 2]", {"Authorization": "Bearer k"}, timeout=5)
    assert result.status == 200 and result.error is None and not result.truncated
    assert result.body == '{"echo": [1, 2], "auth": "Bearer k"}'
    assert result.content_type == "application/json" and result.request_id == "req-1" and result.elapsed_ms > 0
    assert post(f"{scoring}/teapot", b"1", {"Authorization": "Bearer k"}, timeout=5).status == 418


def test_a_long_answer_is_truncated(scoring: str):
    result = post(f"{scoring}/big", b"1", {}, timeout=5)
    assert result.status == 200 and result.truncated and len(result.body) == TEST_MAX_RESPONSE


def test_unreachable_and_slow_services_are_502_and_504(scoring: str):
    down = post(f"http://127.0.0.1:{free_port()}/score", b"1", {}, timeout=5)
    assert down.status == 502 and "could not reach" in (down.error or "")
    slow = post(f"{scoring}/slow", b"1", {}, timeout=0.5)
    assert slow.status == 504 and "no answer" in (slow.error or "") and "0.5 s" in (slow.error or "")


def test_run_principals(tmp_path: Path, database_url: str | None):
    service = AMLService(ServiceSettings(root=tmp_path, database_url=database_url, run_token_grace_seconds=60))
    service.workspaces.get_or_create("w")
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    token = service.tokens.mint(run.id)
    principals = service.principals
    assert principals.run_id("amlr.bogus") is None and principals.run_id(token) == run.id
    assert principals.resolve(run.id).workspace == "w"
    with pytest.raises(Unauthorized, match="does not exist"):
        principals.resolve("never_was")
    service.runs.set_status("w", run.id, models.StatusUpdate(status=models.RunStatus.COMPLETED))
    assert principals.resolve(run.id).run_id == run.id  # within the grace period
    with service.db.session() as s:
        row = s.get(RunRow, run.id)
        assert row is not None and row.end_time is not None
        row.end_time = row.end_time - timedelta(seconds=120)
    with pytest.raises(Unauthorized, match="expired"):
        principals.resolve(run.id)
    service.close()


async def test_environment_build_route(aml):
    await aml("POST", "workspaces", {"name": "w"})
    status, env = await aml("POST", "workspaces/w/environments", {"name": "plain"})
    assert status == 200, env
    status, built = await aml("POST", f"workspaces/w/environments/plain/versions/{env['version']}/build")
    assert status == 200 and built["environment"] == f"plain:{env['version']}" and built["venv_hash"] is None
    assert Path(built["python"]).exists()
    status, err = await aml("POST", "workspaces/w/environments/plain/versions/9/build")
    assert status == 404 and "version 9" in err["error"]["message"]
    status, err = await aml("POST", "workspaces/w/environments/plain/versions/x/build")
    assert status == 400


def test_garbage_collection_prunes_images_through_whoever_builds_them(tmp_path: Path, database_url: str | None):
    from jupyter_aml.core.gc import GcRequest
    from jupyter_aml.errors import ServiceUnavailable

    service = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    with pytest.raises(ServiceUnavailable, match="cannot prune"):
        service.gc.collect(GcRequest(images=True))
    asked: list[tuple[float, bool]] = []

    def prune(before, dry_run: bool) -> tuple[int, int]:
        asked.append((before.timestamp(), dry_run))
        return 3, 1

    service.gc.prune_images = prune
    report = service.gc.collect(GcRequest(images=True, grace_seconds=3600, dry_run=True))
    assert (report.images_removed, report.images_in_use, report.dry_run) == (3, 1, True)
    assert asked and asked[0][1] is True and abs(asked[0][0] - (time.time() - 3600)) < 60
    assert service.gc.collect(GcRequest()).images_removed == 0 and len(asked) == 1  # not asked without images
    service.close()
