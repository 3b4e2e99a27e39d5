"""Real parts for the notebook-kernel tests: one workspace service for the suite, real IPython kernels.

Kernels find the service the way a notebook outside JupyterLab does: ``JUPYTER_AML_URL``/``JUPYTER_AML_TOKEN``
in their environment (inherited from this process).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

from jupyter_aml.sdk.workspace import Workspace
from tests.e2e.conftest import ServiceProcess, kill_processes_using

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    root = tmp_path_factory.mktemp("kernel") / "root"
    root.mkdir()
    svc = ServiceProcess(root, extra=["--AMLExtension.max_concurrent_runs=4"])
    svc.start()
    yield svc
    svc.stop()
    kill_processes_using(root)


@pytest.fixture
def kernel_env(service: ServiceProcess, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The variables a kernel needs to reach the test service (kernels inherit this process's env)."""
    info = service.info()
    monkeypatch.setenv("JUPYTER_AML_URL", info["url"])
    monkeypatch.setenv("JUPYTER_AML_TOKEN", info["token"])
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return {"url": info["url"], "token": info["token"]}


@pytest.fixture
def workspace(service: ServiceProcess) -> Workspace:
    """A fresh workspace per test: counts of runs are the test's own."""
    return service.workspace("k" + uuid.uuid4().hex[:10])


@pytest.fixture
def examples_copy(tmp_path: Path) -> Path:
    """The example folder as a user would have it, outside the repository (runs write nothing into it)."""
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("outputs", "__pycache__", ".ipynb_checkpoints"))
    return target


@dataclass
class Reply:
    status: str = ""
    stdout: str = ""
    stderr: str = ""
    error: dict[str, Any] | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)  # display_data / execute_result contents

    @property
    def text(self) -> str:
        return self.stdout + self.stderr + (f"{self.error['ename']}: {self.error['evalue']}" if self.error else "")

    def mimes(self) -> set[str]:
        return {mime for out in self.outputs for mime in out.get("data", {})}


class Kernel:
    """A real ipykernel with a blocking client; ``run(code)`` collects what the cell printed and displayed."""

    def __init__(self, cwd: Path) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(cwd))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 120) -> Reply:
        msg_id = self.kc.execute(code)
        reply = Reply()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"cell did not finish in {timeout} s: {code[:80]!r}")
            try:
                msg = self.kc.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    reply.stdout += content["text"]
                else:
                    reply.stderr += content["text"]
            elif kind in ("display_data", "execute_result"):
                reply.outputs.append(content)
            elif kind == "error":
                reply.error = content
            elif kind == "status" and content["execution_state"] == "idle":
                break
        while True:  # the execute_reply: a UsageError shows on stderr only, but the reply says "error"
            shell = self.kc.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
            if shell["parent_header"].get("msg_id") == msg_id:
                break
        reply.status = shell["content"]["status"]
        if reply.status == "error" and reply.error is None:
            reply.error = {k: shell["content"].get(k) for k in ("ename", "evalue", "traceback")}
        return reply

    def value(self, expr: str, timeout: float = 30) -> Any:
        """Evaluate ``expr`` in the kernel and return it (JSON round trip)."""
        reply = self.run(f"import json as _j; print('@@' + _j.dumps({expr}))", timeout)
        assert reply.status == "ok", reply.text
        line = [ln for ln in reply.stdout.splitlines() if ln.startswith("@@")][-1]
        return json.loads(line[2:])

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture
def kernel(kernel_env: dict[str, str], tmp_path: Path) -> Iterator[Kernel]:
    folder = tmp_path / "notebook-folder"
    folder.mkdir()
    k = Kernel(folder)
    k.folder = folder  # type: ignore[attr-defined]
    yield k
    k.shutdown()


def run_count(ws: Workspace) -> int:
    return int(ws._client.get(ws._path("runs"), params={"page_size": 500})["total"])
