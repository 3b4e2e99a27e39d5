"""Pipelines run through a real service process (tests/e2e/conftest.py) with the real local target."""

from __future__ import annotations

from tests.e2e.conftest import service, wait_status, write_script  # noqa: F401 - the real service process
