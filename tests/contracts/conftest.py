"""Fixtures of the compute contract suite: ``backend_factory`` (one kit per backend, shared by that backend's
tests so a Dask deployment starts once) and the fake workspace service the real agent reports to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.fakeservice import FakeService
from tests.contracts.kits import KITS, BackendKit
from tests.procs import kill_processes_using


@pytest.fixture(scope="session", params=list(KITS), ids=list(KITS))
def backend_factory(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendKit]:
    kit = KITS[request.param](tmp_path_factory.mktemp(request.param))
    try:
        kit.setup()
        yield kit
    finally:
        kit.teardown()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[FakeService]:
    svc = FakeService().start()
    yield svc
    svc.stop()
    kill_processes_using(tmp_path)  # a failed test leaves no agent or script of its runs behind
