"""The one paged run listing (``RunService.find``) that the REST route, the CLI and the magics page through."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_aml.core import models
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.errors import InvalidInput


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> AMLService:
    svc = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    svc.workspaces.get_or_create("w")
    return svc


def test_pages_cover_every_run_once_in_order(service: AMLService) -> None:
    spec = models.RunCreate(experiment="e", kind="interactive")
    created = [service.runs.create("w", spec, submitter="t").id for _ in range(7)]
    seen: list[str] = []
    token: str | None = None
    while True:
        page = service.runs.find("w", sort="number", page_size=3, page_token=token)
        assert page.total == 7
        seen += [r.id for r in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert seen == created


def test_a_page_token_not_made_by_the_service_is_bad_input(service: AMLService) -> None:
    with pytest.raises(InvalidInput, match="page_token"):
        service.runs.find("w", page_token="not-a-token")
    with pytest.raises(InvalidInput, match="page_size"):
        service.runs.find("w", page_size=0)
    with pytest.raises(InvalidInput, match="not a run status"):
        service.runs.find("w", statuses=["Bogus"])
