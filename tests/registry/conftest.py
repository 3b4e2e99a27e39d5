"""One real ``aml serve`` process for the registry and serving tests (starting one costs several seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ServiceProcess, kill_processes_using

_shared: dict[str, ServiceProcess] = {}


def shared_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The same service for every directory that asks (each conftest's session fixture calls this)."""
    owner = "service" not in _shared
    if owner:
        root: Path = tmp_path_factory.mktemp("svc") / "root"
        root.mkdir()
        svc = ServiceProcess(root, extra=["--AMLExtension.heartbeat_interval=1",
                                          "--AMLExtension.max_concurrent_runs=2"])
        svc.start()
        _shared["service"] = svc
    yield _shared["service"]
    if owner:
        svc = _shared.pop("service")
        svc.stop()
        kill_processes_using(svc.root)


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    yield from shared_service(tmp_path_factory)
