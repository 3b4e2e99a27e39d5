"""The application object: its parts are chosen by configuration (c.AMLApplication.*) and handed to handlers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import pytest
from traitlets import TraitError
from traitlets.config import Config

from jupyter_aml.app import AMLApplication
from jupyter_aml.core.scheduler import Scheduler
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.serving.manager import DeploymentManager
from jupyter_aml.store.blobs import LocalBlobStore
from tests.server.helpers import sha


class CountingBlobStore(LocalBlobStore):
    puts: list[str] = []

    def put_stream(self, sha256: str, stream: BinaryIO, *, max_bytes: int) -> int:
        CountingBlobStore.puts.append(sha256)
        return super().put_stream(sha256, stream, max_bytes=max_bytes)


class QuietScheduler(Scheduler):
    pass


class QuietDeployments(DeploymentManager):
    pass


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **jp_server_config,
        "AMLApplication": {
            "scheduler_class": f"{__name__}.QuietScheduler",
            "blob_store_class": f"{__name__}.CountingBlobStore",
            "deployment_manager_class": f"{__name__}.QuietDeployments",
        },
    }


async def test_configured_classes_play_their_parts(aml, jp_serverapp):
    app = jp_serverapp.web_app.settings["aml_app"]
    assert isinstance(app, AMLApplication)
    assert type(app.scheduler) is QuietScheduler and type(app.deployments) is QuietDeployments
    assert type(app.service.blobs) is CountingBlobStore
    await aml("POST", "workspaces", {"name": "w"})
    data = b"through the configured blob store"
    status, _ = await aml("PUT", f"workspaces/w/blobs/{sha(data)}", raw=data)
    assert status == 201 and CountingBlobStore.puts[-1] == sha(data)
    status, computes = await aml("GET", "workspaces/w/computes")
    assert status == 200 and [c["name"] for c in computes["items"]] == ["local"]


def test_a_class_of_the_wrong_kind_is_refused(tmp_path: Path):
    config = Config({"AMLApplication": {"blob_store_class": "jupyter_aml.core.scheduler.Scheduler"}})
    with pytest.raises(TraitError):
        AMLApplication(ServiceSettings(root=tmp_path), config=config).open()


def test_the_schema_is_read_without_opening_the_service(tmp_path: Path, database_url: str | None):
    app = AMLApplication(ServiceSettings(root=tmp_path / "r", database_url=database_url))
    current, head, exists = app.schema_status()
    assert current is None and head and exists is (database_url is not None)
    assert not (tmp_path / "r").exists()  # nothing created, not even the root
    app.upgrade_schema()
    assert app.schema_status() == (head, head, True)


async def test_open_start_and_stop_without_a_server(tmp_path: Path, database_url: str | None):
    app = AMLApplication(ServiceSettings(root=tmp_path, database_url=database_url)).open(service_url="http://x")
    await app.start()
    app.service.workspaces.get_or_create("w")
    assert [c.name for c in app.computes.list("w").items] == ["local"]
    await app.stop()
    await app.stop()  # twice is harmless


def test_bad_database_urls_are_clear_errors(tmp_path: Path):
    from jupyter_aml.errors import AMLError, InvalidInput
    from tests.e2e.conftest import free_port

    with pytest.raises(InvalidInput, match="is not a database URL"):
        AMLApplication.for_database(tmp_path, "notaurl::")
    with pytest.raises(InvalidInput, match="'mysql' is not supported"):
        AMLApplication.for_database(tmp_path, "mysql://u@h/db").schema_status()
    app = AMLApplication.for_database(tmp_path, f"postgresql+psycopg://u:secret@127.0.0.1:{free_port()}/db")
    assert "secret" not in app.database_shown() and "u:***@127.0.0.1" in app.database_shown()
    with pytest.raises(AMLError, match="database error: OperationalError"):
        app.schema_status()
