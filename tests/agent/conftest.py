from __future__ import annotations

import pytest

from tests.agent.fakeservice import FakeService


@pytest.fixture
def service():
    svc = FakeService().start()
    yield svc
    svc.stop()
