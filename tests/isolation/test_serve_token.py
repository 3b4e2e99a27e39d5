"""Finding 1: the service token is not the Jupyter server's token, and no secret is on aml serve's command line."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ServiceProcess


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(tmp_path / "root", extra=[])
    svc.root.mkdir()
    svc.start()
    yield svc
    svc.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect to the login page is a refusal, not the login page's 200


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_the_service_token_opens_no_kernels_or_contents(served: ServiceProcess) -> None:
    token = (served.root / "service-token").read_text().strip()
    base = f"http://127.0.0.1:{served.port}"
    assert _status(f"{base}/aml/api/v1/workspaces", token) == 200  # it is the AML API's token
    for route in ("api/kernels", "api/contents", "api/sessions", "api/terminals"):
        assert _status(f"{base}/{route}", token) in (302, 401, 403), route
    assert _status(f"{base}/aml/api/v1/workspaces", "amls.wrong") in (401, 403)


def test_no_token_on_the_command_line(served: ServiceProcess) -> None:
    assert served.proc is not None
    token = (served.root / "service-token").read_text().strip()
    cmdline = Path(f"/proc/{served.proc.pid}/cmdline").read_bytes().decode()
    assert token not in cmdline and "IdentityProvider.token" not in cmdline
    from jupyter_core.paths import jupyter_runtime_dir

    info = json.loads((Path(jupyter_runtime_dir()) / f"jpserver-{served.proc.pid}.json").read_text())
    assert info["token"] and info["token"] != token and info["token"] not in cmdline
    assert token not in (served.root / "service.log").read_text()  # the server's start-up URL shows its own token


def test_an_unknown_runner_stops_aml_serve_with_the_valid_ones(tmp_path: Path) -> None:
    svc = ServiceProcess(tmp_path / "root", extra=["--AMLExtension.runner=bogus"])
    svc.root.mkdir()
    try:
        with pytest.raises(RuntimeError) as err:
            svc.start(timeout=60)
        assert svc.proc is not None and svc.proc.wait(10) == 1
        assert "unknown runner 'bogus'" in str(err.value)
        assert "valid runners: auto, same-user, user, bubblewrap" in str(err.value)
    finally:
        svc.stop()
