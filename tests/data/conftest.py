"""Fixtures of the data tests: a real S3-protocol server (moto's server mode) and a fresh bucket per test.

``s3_server`` (session) yields an ``S3Server``: ``endpoint_url``, ``access_key``, ``secret_key``, ``region``
and ``storage_options()`` for fsspec. ``s3_bucket`` (per test) yields the name of a new, empty bucket on it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.data import s3
from tests.data.s3 import S3Server

_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    log: Path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    proc, server = s3.start(log)
    try:
        yield server
    finally:
        s3.stop(proc)


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    name = f"aml-test-{next(_buckets)}"
    s3_server.client().create_bucket(Bucket=name)
    return name
