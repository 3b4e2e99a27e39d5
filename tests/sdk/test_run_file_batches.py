"""The SDK registers many run files in batches (issue 8, finding 4): one request per FILES_PER_REQUEST files, never
one per file, and never more than the service takes in one request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_aml import Experiment, Workspace
from jupyter_aml.core.files import MAX_RUN_FILES_PER_REQUEST
from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.sdk import run_files
from tests.e2e.conftest import ServiceProcess


class CountingClient(ServiceClient):
    """The real transport, keeping the requests it sends."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.calls: list[tuple[str, str, Any]] = []

    def request(self, method: str, path: str, **kw: Any) -> Any:
        self.calls.append((method, path, kw.get("json")))
        return super().request(method, path, **kw)


def test_upload_folder_and_upload_files_register_in_batches(service: ServiceProcess, tmp_path: Path,
                                                            monkeypatch: Any) -> None:
    monkeypatch.setattr(run_files, "FILES_PER_REQUEST", 10)
    info = service.info()
    client = CountingClient(info["url"], info["token"])
    run = Experiment(Workspace("batches", client=client), "e").start_logging()
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    for i in range(23):
        (folder / ("sub" if i % 2 else ".") / f"f{i:02}.txt").write_text(f"file {i % 5}")
    client.calls.clear()

    names = run.upload_folder("data", folder)
    registrations = [c for c in client.calls if c[0] == "POST" and c[1].endswith(f"/runs/{run.id}/files")]
    assert len(registrations) == 3  # 23 files, 10 a request: not one request per file
    assert len(names) == 23 and sorted(run.get_file_names()) == sorted(names)
    assert len([c for c in client.calls if c[0] == "PUT"]) == 5  # each distinct blob uploaded once

    client.calls.clear()
    run.upload_files([f"copy/{i}" for i in range(12)], [str(folder / "f00.txt")] * 12)
    assert len([c for c in client.calls if c[0] == "POST" and c[1].endswith("/files")]) == 2
    assert len([n for n in run.get_file_names() if n.startswith("copy/")]) == 12
    run.complete()


def test_the_sdk_batch_fits_the_service_cap() -> None:
    assert 0 < run_files.FILES_PER_REQUEST <= MAX_RUN_FILES_PER_REQUEST
