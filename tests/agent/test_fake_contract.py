"""The agent tests' fake service speaks the real contract: real routes, records with the real fields."""

from __future__ import annotations

from jupyter_aml.core import models
from jupyter_aml.server.extension import all_routes
from jupyter_aml.server.openapi import build_openapi
from tests.agent.fakeservice import ROUTES, FakeRun


def test_fake_routes_are_routes_of_the_service() -> None:
    document = build_openapi(all_routes(), "0")
    served = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert set(ROUTES) <= served


def test_fake_run_records_validate_as_the_service_model() -> None:
    record = FakeRun("r1", run_config={"script": "train.py"}).to_dict()
    assert set(record) == set(models.Run.model_fields)
    assert models.Run.model_validate(record).run_config is not None
    assert models.Run.model_validate(FakeRun("r2").to_dict()).run_config is None
