from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.fakeservice import FakeService


@pytest.fixture
def service() -> Iterator[FakeService]:
    """The fake workspace service the real agent reports to (as in tests/agent)."""
    svc = FakeService().start()
    yield svc
    svc.stop()
