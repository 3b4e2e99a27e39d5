"""Compute instances over REST on a real Docker engine: created Running with the size's limits, runs execute
inside the container (whose hostname is the instance's name), stop and start, a run submitted to a Stopped
instance starts it or is refused, as the instance's when_stopped setting says, and an instance set up with a
registered environment runs in an image built from it, recorded in the workspace's image registry."""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.helpers import upload
from tests.server.test_computes import until
from tests.serving.docker_env import ensure_engine, python_base_image

HOSTNAME = b"import socket\nprint('inside', socket.gethostname(), flush=True)\n"


@pytest.fixture
def image(aml_root: Path) -> Iterator[str]:
    yield python_base_image(ensure_engine())
    found = subprocess.run(["docker", "ps", "-aq", "--filter", "label=aml.kind=compute-instance", "--filter",
                            "label=aml.compute=dev-box"], capture_output=True, text=True).stdout.split()
    for name in ("strict-box", "env-box"):
        found += subprocess.run(["docker", "ps", "-aq", "--filter", f"label=aml.compute={name}"],
                                capture_output=True, text=True).stdout.split()
    if found:
        subprocess.run(["docker", "rm", "-f", *found], capture_output=True)


async def _run(aml: Any, snap: str, target: str) -> dict[str, Any]:
    status, run = await aml("POST", "workspaces/w/runs", {"experiment": "e", "snapshot_id": snap,
                                                           "run_config": {"script": "host.py",
                                                                          "compute_target": target}})
    assert status == 201, run
    return dict(run)


async def _logs(aml: Any, run_id: str) -> str:
    _, page = await aml("GET", f"workspaces/w/runs/{run_id}/logs")
    return "\n".join(line["text"] for line in page["items"])


async def test_an_instance_runs_scripts_inside_stops_and_starts_for_a_queued_run(aml: Any, image: str) -> None:
    await aml("POST", "workspaces", {"name": "w"})
    status, made = await aml("POST", "workspaces/w/computes", {"name": "dev-box", "type": "ComputeInstance",
                                                              "image": image, "vm_size": "STANDARD_DS1_V2"})
    assert status == 202 and (made["vcpus"], made["memory_gb"]) == (1, 3.5)
    box = await until(aml, "workspaces/w/computes/dev-box", lambda c: c["state"] == "Running", 120)
    assert box["type"] == "ComputeInstance" and box["when_stopped"] == "start"
    snap = await upload(aml, "w", {"host.py": HOSTNAME})
    run = await _run(aml, snap, "dev-box")
    done = await until(aml, f"workspaces/w/runs/{run['id']}", lambda r: r["status"] in ("Completed", "Failed"), 90)
    assert done["status"] == "Completed", done
    text = await _logs(aml, run["id"])
    printed = text.split("inside", 1)[1].split("\n", 1)[0].strip()
    assert printed == "dev-box" != socket.gethostname()  # v1: the instance's hostname is its name

    status, _ = await aml("POST", "workspaces/w/computes/dev-box/stop")
    assert status == 202
    await until(aml, "workspaces/w/computes/dev-box", lambda c: c["state"] == "Stopped", 60)
    run = await _run(aml, snap, "dev-box")  # a queued run starts the Stopped instance (when_stopped: start)
    done = await until(aml, f"workspaces/w/runs/{run['id']}", lambda r: r["status"] in ("Completed", "Failed"), 120)
    assert done["status"] == "Completed", done
    _, box = await aml("GET", "workspaces/w/computes/dev-box")
    assert box["state"] == "Running"
    await until(aml, "workspaces/w/computes/dev-box", lambda c: c["active_runs"] == 0, 30)  # its agent exits
    status, body = await aml("DELETE", "workspaces/w/computes/dev-box")
    assert status == 200, body


async def test_a_stopped_instance_that_refuses_runs_says_how_to_start_it(aml: Any, image: str) -> None:
    await aml("POST", "workspaces", {"name": "w"})
    await aml("POST", "workspaces/w/computes", {"name": "strict-box", "type": "ComputeInstance", "image": image,
                                                "when_stopped": "refuse"})
    await until(aml, "workspaces/w/computes/strict-box", lambda c: c["state"] == "Running", 120)
    await aml("POST", "workspaces/w/computes/strict-box/stop")
    await until(aml, "workspaces/w/computes/strict-box", lambda c: c["state"] == "Stopped", 60)
    snap = await upload(aml, "w", {"host.py": HOSTNAME})
    status, body = await aml("POST", "workspaces/w/runs", {"experiment": "e", "snapshot_id": snap,
                                                           "run_config": {"script": "host.py",
                                                                          "compute_target": "strict-box"}})
    assert status == 400 and "is Stopped" in body["error"]["message"] and "start" in body["error"]["hint"]
    _, page = await aml("GET", "workspaces/w/runs")
    assert page["total"] == 0  # refused before anything was stored
    status, _ = await aml("DELETE", "workspaces/w/computes/strict-box")
    assert status == 200


async def test_no_docker_image_no_instance(aml: Any, image: str) -> None:
    await aml("POST", "workspaces", {"name": "w"})
    status, body = await aml("POST", "workspaces/w/computes", {"name": "ghost-box", "type": "ComputeInstance",
                                                               "image": "jupyter-aml-test/never-built:1"})
    assert status == 400 and "never-built" in body["error"]["message"], body
    _, listing = await aml("GET", "workspaces/w/computes")
    assert [c["name"] for c in listing["items"]] == ["local"]


async def test_an_instance_of_a_registered_environment_runs_in_its_image(aml: Any, image: str) -> None:
    await aml("POST", "workspaces", {"name": "w"})
    nonce = uuid.uuid4().hex  # a new environment each time: the image is really built
    status, env = await aml("POST", "workspaces/w/environments", {
        "name": "sixes", "python": {"pip": ["six==1.16.0"]}, "env_vars": {"AML_NONCE": nonce},
        "docker_base_image": image})
    assert status == 200, env
    status, made = await aml("POST", "workspaces/w/computes", {"name": "env-box", "type": "ComputeInstance",
                                                              "environment": f"sixes:{env['version']}"})
    assert status == 202 and made["environment"] == f"sixes:{env['version']}", made
    box = await until(aml, "workspaces/w/computes/env-box", lambda c: c["state"] in ("Running", "Failed"), 300)
    assert box["state"] == "Running", box
    _, page = await aml("GET", "workspaces/w/images")
    (built,) = [i for i in page["items"] if i["tag"].startswith("jupyter-aml/instance:")]
    assert built["base_image"] == image and built["docker_id"].startswith("sha256:")
    try:
        snap = await upload(aml, "w", {"host.py": b"import os, six\nprint('six', six.__version__, "
                                                  b"os.environ['AML_NONCE'])\n"})
        run = await _run(aml, snap, "env-box")
        done = await until(aml, f"workspaces/w/runs/{run['id']}", lambda r: r["status"] in ("Completed", "Failed"),
                           90)
        assert done["status"] == "Completed", done
        assert f"six 1.16.0 {nonce}" in await _logs(aml, run["id"])
        await until(aml, "workspaces/w/computes/env-box", lambda c: c["active_runs"] == 0, 30)
        status, body = await aml("DELETE", "workspaces/w/computes/env-box")
        assert status == 200, body
    finally:
        subprocess.run(["docker", "rmi", "-f", built["tag"]], capture_output=True)
