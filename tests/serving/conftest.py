"""A real ``aml serve`` process for the serving tests, and helpers to talk to web services as a plain
HTTP client would (Azure ML v1's request format: ``{"data": [...]}`` with ``Authorization: Bearer <key>``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import ServiceProcess
from tests.registry.conftest import shared_service


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    yield from shared_service(tmp_path_factory)


SCORING = Path(__file__).parent / "scoring"


class LoadLoop:
    """Light load from a background thread: one keep-alive client, a request every ``interval`` seconds."""

    def __init__(self, url: str, key: str, body: dict, interval: float = 0.02) -> None:
        self.url, self.key, self.body, self.interval = url, key, body, interval
        self.results: list[tuple[float, int, dict | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            try:
                resp = session.post(self.url, json=self.body, headers={"Authorization": f"Bearer {self.key}"},
                                    timeout=30)
                self.results.append((time.monotonic(), resp.status_code, resp.json() if resp.ok else None))
            except requests.RequestException as exc:
                self.results.append((time.monotonic(), 0, {"exception": str(exc)}))
            time.sleep(self.interval)

    def __enter__(self) -> LoadLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    @property
    def failures(self) -> list[tuple[float, int, dict | None]]:
        return [r for r in self.results if r[1] != 200]

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        start = len(self.results)
        while len(self.results) < start + count:
            assert time.monotonic() < deadline, f"only {len(self.results) - start} requests in {timeout} s"
            time.sleep(0.05)
