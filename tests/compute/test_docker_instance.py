"""DockerInstanceBackend (ComputeInstance) with a real Docker engine, the real agent inside the container and the
fake service: limits, exit codes, cancel of a whole process tree, reattach from a new backend object, a killed
container, stop/start, idle shutdown and the refusals of check()."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from jupyter_aml.compute import instance_kernel as ik
from jupyter_aml.compute.docker_instance import DockerInstanceBackend
from jupyter_aml.core.registry_models import EnvironmentDefinition
from jupyter_aml.errors import ComputeUnavailable, InvalidInput
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import Exits, make_job
from tests.compute.test_instance_kernel import manylinux_image, run_cell
from tests.serving.docker_env import ensure_engine, python_base_image

Make = Callable[..., DockerInstanceBackend]
# docker top runs the host's ps, which cuts COMMAND at 80 columns when dockerd has no terminal width
WIDE = "-ww -ef"
SLEEPER = b"import time\nprint('ready', flush=True)\ntime.sleep(300)\n"


@pytest.fixture(scope="module")
def engine() -> Any:
    return ensure_engine()


@pytest.fixture
def kernels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the instances' kernelspecs go (never the user's own Jupyter folder)."""
    folder = tmp_path / "kernels"
    monkeypatch.setenv(ik.KERNELS_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def make(engine: Any, tmp_path: Path, kernels: Path) -> Iterator[Make]:
    """Backends of one instance (same settings: a second object is a restarted service); its container is removed
    afterwards whatever happened."""
    image = python_base_image(engine)
    name = f"ci{uuid.uuid4().hex[:6]}"
    made: list[DockerInstanceBackend] = []

    def build(**kw: Any) -> DockerInstanceBackend:
        settings: dict[str, Any] = {"workspace": "ws", "image": image, "work_root": str(tmp_path / "work"),
                                    "poll_seconds": 0.2, "grace_period": 5.0, **kw}
        backend = DockerInstanceBackend(settings.pop("name", name), state_dir=str(tmp_path / "instance"), **settings)
        made.append(backend)
        return backend

    try:
        yield build
    finally:
        for container in engine.containers.list(all=True, filters={"label": f"aml.root={tmp_path / 'instance'}"}):
            container.remove(force=True)


def _job(service: FakeService, run_id: str, tmp_path: Path) -> Any:
    return make_job(service, run_id, tmp_path, extra_env={"AML_HEARTBEAT_INTERVAL": "0.5"})


async def _until(predicate: Callable[[], bool], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.05)


def test_provision_limits_and_a_failing_run(make: Make, engine: Any, service: FakeService, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_TOKEN", "the-servers-secret")
    script = (b"import os, socket, sys\nprint('in a container:', os.path.exists('/.dockerenv'))\n"
              b"print('hostname:', socket.gethostname())\n"
              b"print('server token:', 'JUPYTER_TOKEN' in os.environ)\n"
              b"print('trusts:', os.environ['SSL_CERT_FILE'], os.path.getsize(os.environ['SSL_CERT_FILE']) > 1000)\n"
              b"sys.exit(3)\n")
    service.state.add_run("i1", files={"t.py": script}, script="t.py")
    service.state.add_run("i1b", files={"t.py": b"import time\ntime.sleep(1)\nprint('beside it')"}, script="t.py")
    changes: list[str] = []

    async def main() -> tuple[Exits, Exits]:
        backend = make(vcpus=1, memory_gb=1.5, max_concurrent_runs=3)
        backend.on_change(lambda: changes.append(backend.state()))
        await backend.check()
        await backend.provision()
        assert backend.state() == "Running" and backend.ready() and backend.slots() == 3
        assert backend.nodes()[0].state == "idle"
        exits, beside = Exits(), Exits()
        info = await backend.start(_job(service, "i1", tmp_path), exits)
        assert backend.nodes()[0].state == "busy" and backend.nodes()[0].run_ids == ("i1",)
        await backend.start(_job(service, "i1b", tmp_path), beside)
        assert info["run_dir"] == str(tmp_path / "work" / "i1") and info["container"] == backend.container_id
        assert "i1b" in backend.nodes()[0].run_ids  # two agents at once in one container
        await asyncio.wait_for(asyncio.gather(exits.event.wait(), beside.event.wait()), 60)
        assert backend.nodes()[0].state == "idle"
        assert backend.describe()["container_name"] == backend.container_name
        await backend.shutdown()
        return exits, beside

    exits, beside = asyncio.run(main())
    assert exits.calls == [("i1", 0)] and beside.calls == [("i1b", 0)]  # the agents' codes: statuses delivered
    assert changes[0] == "Running" and "Failed" not in changes  # notified on each change
    final = [body for rid, body in service.state.statuses if rid == "i1"][-1]
    assert final["status"] == "Failed" and final["exit_code"] == 3
    out = service.state.log_text("stdout")
    assert "in a container: True" in out and "server token: False" in out and "beside it" in out
    assert "trusts: /etc/jupyter-aml/ca-bundle.pem True" in out
    (container,) = engine.containers.list(filters={"label": f"aml.root={tmp_path / 'instance'}"})
    assert f"hostname: {container.labels['aml.compute']}" in out  # the compute's name, not the host's
    host = container.attrs["HostConfig"]
    assert host["NanoCpus"] == 1_000_000_000 and host["Memory"] == 1536 * 1024**2
    assert host["NetworkMode"] == "host" and host["Init"] is True
    mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
    assert len(mounts) == 2  # the package and the work root: nothing else of the host
    assert mounts["/opt/jupyter-aml/jupyter_aml"]["RW"] is False
    assert mounts[str(tmp_path / "work")]["Source"] == str(tmp_path / "work")
    assert container.labels["aml.workspace"] == "ws" and container.name.startswith("aml-ci-ws-ci")


def test_cancel_kills_the_whole_tree_in_the_container(make: Make, engine: Any, service: FakeService,
                                                      tmp_path: Path) -> None:
    # The child leaves the script's session and ignores SIGTERM: only the sweep by the run's variables finds it.
    script = (b"import os, signal, subprocess, sys, time\n"
              b"child = 'import os, signal, time; os.setsid(); signal.signal(signal.SIGTERM, signal.SIG_IGN); "
              b"time.sleep(300)'\n"
              b"subprocess.Popen([sys.executable, '-c', child])\n"
              b"signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(300)\n")
    service.state.add_run("i2", files={"t.py": script}, script="t.py")

    async def main() -> Exits:
        backend = make(grace_period=15.0)  # the agent waits 5 s for a script that ignores SIGTERM
        await backend.provision()
        exits = Exits()
        await backend.start(_job(service, "i2", tmp_path), exits)
        await _until(lambda: "ready" in service.state.log_text("stdout"), 60)
        container = engine.containers.get(backend.container_name)
        assert len(container.top(ps_args=WIDE)["Processes"]) >= 5  # init, keepalive, launcher, agent, script, child
        started = time.monotonic()
        await backend.cancel("i2")
        await asyncio.wait_for(exits.event.wait(), 30)
        assert time.monotonic() - started < 25
        # the launcher exits just after its file
        await _until(lambda: len(container.top(ps_args=WIDE)["Processes"]) == 2, 10)
        left = [p[-1] for p in container.top(ps_args=WIDE)["Processes"]]
        assert "docker-init" in left[0] and "signal.pause" in left[1], left  # the init and the keepalive only
        await backend.cancel("i2")  # an ended run: nothing to do
        await backend.shutdown()
        return exits

    exits = asyncio.run(main())
    assert exits.calls[0][0] == "i2"
    assert service.state.status_sequence("i2")[-1] == "Canceled"


def test_a_new_backend_object_reattaches_to_a_running_run(make: Make, service: FakeService, tmp_path: Path) -> None:
    go = tmp_path / "work" / "go-i3"  # the run ends when the test says so (the work root is shared)
    script = (f"import os, sys, time\nprint('ready', flush=True)\n"
              f"while not os.path.exists({str(go)!r}):\n    time.sleep(0.05)\nsys.exit(5)\n").encode()
    service.state.add_run("i3", files={"t.py": script}, script="t.py")

    async def main() -> tuple[Exits, Exits]:
        first = make()
        await first.provision()
        before = Exits()
        info = await first.start(_job(service, "i3", tmp_path), before)
        await _until(lambda: "ready" in service.state.log_text("stdout"), 60)
        await first.shutdown()  # the service stops; the container and the run go on

        second = make()  # the restarted service's object, same settings
        other = {**info, "run_dir": str(tmp_path / "work" / "i-other")}
        assert not await second.reattach("i-other", other, Exits())  # that exec runs another run
        assert not await second.is_alive("i3", {**info, "exec_id": None, "pid": 999_999})  # no such agent
        assert second.state() == "Running" and second.container_id == first.container_id
        after = Exits()
        assert await second.is_alive("i3", info)
        assert await second.is_alive("i3", {**info, "exec_id": None})  # the engine forgot the exec: the pid tells
        assert await second.reattach("i3", info, after)
        assert second.nodes()[0].run_ids == ("i3",)
        go.touch()
        await asyncio.wait_for(after.event.wait(), 30)
        assert not await second.is_alive("i3", info)
        await second.shutdown()
        return before, after

    before, after = asyncio.run(main())
    assert before.calls == [] and after.calls == [("i3", 0)]  # the agent's own code, not None: it was watched
    assert [body for rid, body in service.state.statuses if rid == "i3"][-1]["exit_code"] == 5


def test_kill_and_a_killed_container(make: Make, engine: Any, service: FakeService, tmp_path: Path) -> None:
    service.state.add_run("i4k", files={"t.py": SLEEPER}, script="t.py")
    service.state.add_run("i4", files={"t.py": SLEEPER}, script="t.py")

    async def main() -> tuple[Exits, float]:
        backend = make()
        await backend.provision()
        killed = Exits()
        await backend.start(_job(service, "i4k", tmp_path), killed)
        await _until(lambda: "ready" in service.state.log_text("stdout"), 60)
        await backend.kill("i4k")  # no grace: the agent and its script die now
        await asyncio.wait_for(killed.event.wait(), 10)
        assert killed.calls == [("i4k", -9)]
        container = engine.containers.get(backend.container_name)
        await _until(lambda: len(container.top(ps_args=WIDE)["Processes"]) == 2, 10)

        exits = Exits()
        await backend.start(_job(service, "i4", tmp_path), exits)
        await _until(lambda: service.state.log_text("stdout").count("ready") == 2, 60)
        started = time.monotonic()
        await asyncio.to_thread(engine.containers.get(backend.container_name).kill)
        await asyncio.wait_for(exits.event.wait(), 60)
        took = time.monotonic() - started
        assert backend.state() == "Failed" and "stopped unexpectedly" in str(backend.error)
        assert backend.nodes()[0].state == "unusable" and not backend.ready()
        assert "Failed" in backend.waiting_reason(0)
        await backend.start_compute()  # a failed instance starts again
        assert backend.state() == "Running" and backend.error is None
        await backend.shutdown()
        return exits, took

    exits, took = asyncio.run(main())
    assert exits.calls == [("i4", None)] and took < 10


def test_stop_start_and_a_stopped_instance_found_again(make: Make, engine: Any, service: FakeService,
                                                       tmp_path: Path) -> None:
    service.state.add_run("i5", files={"t.py": b"print('after a restart')"}, script="t.py")

    async def main() -> Exits:
        backend = make(when_stopped="refuse")
        await backend.provision()
        await backend.stop_compute()
        assert backend.state() == "Stopped" and backend.nodes() == [] and not backend.ready()
        assert engine.containers.get(backend.container_name).status == "exited"
        assert backend.waiting_reason(0) == f"instance {backend.name} is Stopped: start it"
        with pytest.raises(ComputeUnavailable):
            await backend.start(_job(service, "i5", tmp_path), Exits())
        await backend.shutdown()

        again = make()  # the restarted service's object finds the instance stopped
        await again.provision()
        assert again.state() == "Stopped" and not again.ready()
        await asyncio.gather(again.start_compute(), again.start_compute())  # one start, twice asked
        assert again.state() == "Running"
        exits = Exits()
        await again.start(_job(service, "i5", tmp_path), exits)
        await asyncio.wait_for(exits.event.wait(), 60)
        await again.stop_compute()
        await again.start_compute()
        assert again.state() == "Running"
        booted = engine.containers.get(again.container_name).attrs["State"]["StartedAt"]
        await again.restart_compute()
        assert again.state() == "Running"
        assert engine.containers.get(again.container_name).attrs["State"]["StartedAt"] != booted
        await again.destroy()
        return exits

    exits = asyncio.run(main())
    assert exits.calls == [("i5", 0)]
    assert "after a restart" in service.state.log_text("stdout")
    assert not engine.containers.list(all=True, filters={"label": f"aml.root={tmp_path / 'instance'}"})


def test_an_idle_instance_stops_itself_but_not_during_a_run(make: Make, engine: Any, service: FakeService,
                                                            tmp_path: Path) -> None:
    service.state.add_run("i6", files={"t.py": b"import time\ntime.sleep(2.5)\n"}, script="t.py")

    async def main() -> tuple[Exits, list[str]]:
        backend = make(idle_time_before_shutdown_minutes=30, idle_seconds=1.0, when_stopped="refuse")
        await backend.provision()
        exits = Exits()
        await backend.start(_job(service, "i6", tmp_path), exits)
        states: list[str] = []
        while not exits.event.is_set():
            states.append(backend.state())
            await asyncio.sleep(0.1)
        await _until(lambda: backend.state() == "Stopped", 10)
        assert "idle" in str(backend.describe()["stopped_reason"])
        assert engine.containers.get(backend.container_name).status == "exited"
        await backend.shutdown()
        return exits, states

    exits, states = asyncio.run(main())
    assert exits.calls == [("i6", 0)] and set(states) == {"Running"} and len(states) > 15


def test_check_refuses_a_missing_image_a_missing_engine_and_the_services_root(
        make: Make, engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = make(image="jupyter-aml-test/no-such-image:1")
    with pytest.raises(InvalidInput, match=r"no-such-image:1.*nothing is pulled") as caught:
        asyncio.run(missing.check())
    assert "docker import" in str(caught.value.hint)
    with pytest.raises(InvalidInput):
        asyncio.run(missing.provision())
    assert missing.state() == "Failed" and "no-such-image" in str(missing.error)
    assert not engine.containers.list(all=True, filters={"label": f"aml.root={tmp_path / 'instance'}"})

    for work, settings in ((tmp_path / "root" / "work", {"root": str(tmp_path / "root")}),
                           (tmp_path / "root" / "work", {"protected_paths": ["/nowhere", str(tmp_path / "root")]}),
                           (tmp_path, {"root": str(tmp_path / "root")})):  # a mount that holds the root
        inside = make(work_root=str(work), **settings)
        with pytest.raises(InvalidInput, match="holds the service's secrets"):
            asyncio.run(inside.check())
    # The service's layout, <root>/computes/<workspace>/<name>: the run folders go where its own do.
    served = DockerInstanceBackend("gpu", state_dir=str(tmp_path / "r" / "computes" / "ws" / "gpu"), workspace="ws")
    assert served.work_root == tmp_path / "r-runs" / "work" and served.labels["aml.root"] == str(tmp_path / "r")
    with pytest.raises(InvalidInput, match="no work_root"):
        asyncio.run(DockerInstanceBackend("gpu", state_dir=str(tmp_path / "elsewhere")).check())

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(ComputeUnavailable, match="no Docker engine answers"):
        asyncio.run(make().check())


def test_the_memory_limit_is_enforced(make: Make, service: FakeService, tmp_path: Path) -> None:
    script = b"data = b'x' * (600 * 1024 * 1024)\nprint('not reached')\n"
    service.state.add_run("i7", files={"t.py": script}, script="t.py")

    async def main() -> Exits:
        backend = make(memory_gb=0.25)
        await backend.provision()
        exits = Exits()
        await backend.start(_job(service, "i7", tmp_path), exits)
        await asyncio.wait_for(exits.event.wait(), 60)
        assert backend.state() == "Running"  # the script was killed, not the instance
        await backend.shutdown()
        return exits

    exits = asyncio.run(main())
    final = [body for rid, body in service.state.statuses if rid == "i7"][-1]
    assert exits.calls == [("i7", 0)] and final["status"] == "Failed"
    assert "SIGKILL" in final["error"]["message"] and "not reached" not in service.state.log_text("stdout")


def test_the_instance_kernel_is_in_the_launcher_while_it_runs(make: Make, engine: Any, kernels: Path) -> None:
    """Running: its kernelspec is there and a kernel on it runs in the container (the instance's hostname);
    stopped: the kernelspec is gone; started again: back."""
    backend = make(image=manylinux_image(engine))  # pyzmq's wheels need the C runtime a real image has
    folder = kernels / ik.kernel_name(backend.name, "ws")
    ksm = KernelSpecManager(kernel_dirs=[str(kernels)])

    async def bring_up() -> None:
        await backend.provision()
        await backend.shutdown()

    asyncio.run(bring_up())
    assert ksm.get_kernel_spec(folder.name).display_name == f"Python (aml: {backend.name})"
    km = KernelManager(kernel_name=folder.name, kernel_spec_manager=ksm)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        content, out = run_cell(kc, "import socket; print(socket.gethostname())")
        assert content["status"] == "ok" and out.strip() == backend.name
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    async def stop_then_start() -> tuple[bool, bool]:
        await backend.stop_compute()
        stopped = folder.exists()
        await backend.start_compute()
        started = (folder / "kernel.json").exists()
        await backend.destroy()
        return stopped, started

    assert asyncio.run(stop_then_start()) == (False, True)
    assert not folder.exists()  # deleted with the instance


def test_an_environment_builds_the_instance_image_once(make: Make, engine: Any, service: FakeService,
                                                       tmp_path: Path) -> None:
    """FROM its docker_base_image, with its pip requirements (from PyPI, through the host's CA files) and its
    variables; a second instance of the same environment reuses the image; a requirement pip cannot find is the
    instance's failure, with pip's own words."""
    nonce = uuid.uuid4().hex  # a new environment each time: this test's first instance really builds
    environment = EnvironmentDefinition.model_validate({
        "name": "sixes", "version": "1", "python": {"pip": ["six==1.16.0"]},
        "env_vars": {"AML_NONCE": nonce, "GREETING": "hello $USER"},
        "docker_base_image": python_base_image(engine)}).model_dump(mode="json")
    script = (b"import os, six, sys\nprint('six', six.__version__, os.environ['GREETING'], sys.prefix)\n")
    service.state.add_run("i8", files={"t.py": script}, script="t.py")
    images: list[dict[str, Any]] = []

    async def main() -> tuple[Exits, DockerInstanceBackend, DockerInstanceBackend]:
        first = make(image="jupyter-aml-test/not-this-one:1", environment=environment, on_image=images.append)
        await first.check()  # the environment's base image is the one checked
        await first.provision()
        assert first.state() == "Running", first.error
        exits = Exits()
        await first.start(_job(service, "i8", tmp_path), exits)
        await asyncio.wait_for(exits.event.wait(), 60)
        await first.shutdown()
        second = make(name=f"{first.name}b", environment=environment, on_image=images.append)
        started = time.monotonic()
        await second.provision()
        assert second.state() == "Running" and time.monotonic() - started < 20
        await second.shutdown()
        return exits, first, second

    exits, first, second = asyncio.run(main())
    try:
        assert exits.calls == [("i8", 0)]
        assert "six 1.16.0 hello $USER /opt/venv" in service.state.log_text("stdout")
        assert (first.image_built, second.image_built) == (True, False)  # the second build was skipped
        assert first.image == second.image and first.image.startswith("jupyter-aml/instance:")
        image = engine.images.get(first.image)
        assert [i["tag"] for i in images] == [first.image] * 2 and images[0]["docker_id"] == image.id
        assert images[0]["base_image"] == python_base_image(engine) and images[0]["size"] == image.attrs["Size"]
        assert images[0]["content_hash"].startswith(first.image.split(":")[1])
        assert images[0]["environment"]["python"]["pip"] == ["six==1.16.0"]
        assert engine.containers.get(second.container_name).attrs["Config"]["Image"] == first.image

        broken = {**environment, "python": {**environment["python"], "pip": ["aml-no-such-package-x==0.0.1"]}}
        failing = make(name=f"{first.name}c", environment=broken)
        with pytest.raises(ComputeUnavailable):
            asyncio.run(failing.provision())
        assert failing.state() == "Failed" and "aml-no-such-package-x" in str(failing.error)
        assert "No matching distribution" in str(failing.error)  # pip's last lines
    finally:
        engine.images.remove(first.image, force=True)


def test_an_environments_dockerfile_is_the_instance_images_base(make: Make, engine: Any) -> None:
    """docker.base_dockerfile is built (nothing pulled; its FROM image is in the engine) and the instance's
    image is built FROM it, not from the instance's own image; the registry records that base."""
    from jupyter_aml.compute.dockerfile_base import dockerfile_tag

    nonce = uuid.uuid4().hex
    text = f"FROM {python_base_image(engine)}\nENV AML_DOCKERFILE_MARKER={nonce}\n"
    environment = EnvironmentDefinition.model_validate({
        "name": "from-dockerfile", "version": "1", "python": {"user_managed": True},
        "docker_base_dockerfile": text}).model_dump(mode="json")
    images: list[dict[str, Any]] = []
    backend = make(image="jupyter-aml-test/not-this-one:1", environment=environment, on_image=images.append)

    async def main() -> None:
        await backend.check()  # the Dockerfile decides the base, not the instance's (missing) image
        await backend.provision()
        assert backend.state() == "Running", backend.error
        await backend.shutdown()

    try:
        asyncio.run(main())
        env = engine.images.get(backend.image).attrs["Config"]["Env"]
        assert f"AML_DOCKERFILE_MARKER={nonce}" in env
        assert images[0]["base_image"] == dockerfile_tag(text) and backend.image.startswith("jupyter-aml/instance:")
        missing = EnvironmentDefinition.model_validate({
            "name": "missing-from", "version": "1", "python": {"user_managed": True},
            "docker_base_dockerfile": f"FROM jupyter-aml-test/no-such-image:{nonce[:8]}\n"}).model_dump(mode="json")
        failing = make(name=f"{backend.name}m", environment=missing)
        with pytest.raises(ComputeUnavailable, match=r"docker\.base_dockerfile"):
            asyncio.run(failing.provision())
        assert "nothing is pulled here" in str(failing.error)
    finally:
        engine.images.remove(backend.image, force=True)
        engine.images.remove(dockerfile_tag(text), force=True)
