"""The compute instance's kernel: a real container (``--network host``) on a real Docker engine, a real
ipykernel started through jupyter_client's KernelManager and the registered ``aml-docker-instance``
provisioner. The test image has no ipykernel, so the host-built bundle is what runs.

The base test image holds only the libraries the host's python3.11 needs; a real distribution image also has
the rest of the C runtime that manylinux wheels (pyzmq) count on, so the instance's image adds those four."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from jupyter_client.provisioning.factory import KernelProvisionerFactory

from jupyter_aml.compute import instance_kernel as ik
from tests.serving.docker_env import _ldd, ensure_engine, python_base_image

USERS_BUNDLE_CACHE = Path.home() / ".cache" / "jupyter-aml" / "ipykernel"  # the default, built once
ENTRY_POINT = "aml-docker-instance = jupyter_aml.compute.instance_kernel:DockerInstanceProvisioner"


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Make the provisioner discoverable the way an installed wheel does: a dist-info with entry_points.txt
    on sys.path (pyproject.toml carries the same line for real installs)."""
    root = tmp_path_factory.mktemp("entry-points")
    info = root / "jupyter_aml_instance_kernel_test-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: jupyter-aml-instance-kernel-test\nVersion: 0\n")
    (info / "entry_points.txt").write_text(f"[jupyter_client.kernel_provisioners]\n{ENTRY_POINT}\n")
    sys.path.insert(0, str(root))
    yield
    sys.path.remove(str(root))
    KernelProvisionerFactory.provisioners.pop(ik.PROVISIONER_NAME, None)


@pytest.fixture
def kernels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "kernels"
    monkeypatch.setenv(ik.KERNELS_DIR_ENV, str(folder))
    return folder


MANYLINUX_LIBS = ("libgcc_s.so.1", "libpthread.so.0", "librt.so.1", "libstdc++.so.6")


def manylinux_image(engine: Any) -> str:
    """The base test image plus the C runtime libraries that manylinux wheels may link against."""
    tag = "jupyter-aml-test/python:host-3.11-manylinux"
    base = python_base_image(engine)
    libdir = next(p.parent for p in _ldd([Path(sys.executable)]) if p.name == "libc.so.6")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        dockerfile = f"FROM {base}\nCOPY rootfs/ /\n".encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        for name in MANYLINUX_LIBS:
            tar.add(os.path.realpath(libdir / name), arcname=f"rootfs{libdir / name}")
    buffer.seek(0)
    engine.images.build(fileobj=buffer, custom_context=True, tag=tag, rm=True, pull=False)
    return tag


def start_instance(image: str, user: str = "") -> Any:
    """A stand-in for the backend's instance: one long-lived container on the host network."""
    engine = ensure_engine()
    name = f"aml-kernel-test-{uuid.uuid4().hex[:8]}"
    return engine.containers.run(image, ["python3", "-c", "import time; time.sleep(10**8)"], name=name,
                                 hostname=f"{name}-box", network_mode="host", init=True, detach=True, user=user)


@pytest.fixture(scope="module")
def instance() -> Iterator[Any]:
    container = start_instance(manylinux_image(ensure_engine()))
    yield container
    container.remove(force=True)


@pytest.fixture
def bare_instance() -> Iterator[Any]:
    container = start_instance(python_base_image(ensure_engine()))
    yield container
    container.remove(force=True)


def kernel_processes(container: Any) -> list[str]:
    top = container.top(ps_args="-ww -eo pid,stat,args")
    return [" ".join(p) for p in top["Processes"] if "ipykernel_launcher" in " ".join(p) or "sleeper" in " ".join(p)]


def run_cell(kc: Any, code: str, timeout: float = 60) -> tuple[dict[str, Any], str]:
    out: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout)
    return reply["content"], "".join(out)


def test_kernelspec_folder_content_and_removal(kernels: Path, registered: None) -> None:
    folder = ik.install_kernelspec("My CPU box", "cont-1", workspace="ws1")
    assert folder == kernels / "aml-ws1-my-cpu-box"
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"][:5] == ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert spec["display_name"] == "Python (aml: My CPU box)"
    assert spec["language"] == "python"
    assert spec["metadata"]["kernel_provisioner"] == {"provisioner_name": "aml-docker-instance",
                                                     "config": {"container": "cont-1"}}
    ksm = KernelSpecManager(kernel_dirs=[str(kernels)])
    assert ksm.get_kernel_spec("aml-ws1-my-cpu-box").display_name == "Python (aml: My CPU box)"
    # the provisioner is found through the entry point, so the server lists the kernel
    assert "aml-ws1-my-cpu-box" in ksm.find_kernel_specs()
    provisioner = KernelProvisionerFactory.instance().create_provisioner_instance(
        "k1", ksm.get_kernel_spec("aml-ws1-my-cpu-box"), None)
    assert isinstance(provisioner, ik.DockerInstanceProvisioner)
    assert provisioner.container == "cont-1"
    ik.remove_kernelspec("My CPU box", workspace="ws1")
    assert not folder.exists()
    ik.remove_kernelspec("My CPU box", workspace="ws1")  # already gone: no error


def test_default_folder_is_the_users_jupyter_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ik.KERNELS_DIR_ENV, raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    folder = ik.install_kernelspec("gpu", "c", workspace="W", python="/opt/conda/bin/python")
    assert folder == tmp_path / "data" / "kernels" / "aml-w-gpu"
    assert json.loads((folder / "kernel.json").read_text())["argv"][0] == "/opt/conda/bin/python"


def test_kernel_runs_in_the_container(kernels: Path, registered: None, instance: Any) -> None:
    ik.install_kernelspec("box", instance.name, workspace="ws")
    km = KernelManager(kernel_name="aml-ws-box", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    km.start_kernel(cwd="/tmp")  # a folder the container has too
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        content, out = run_cell(kc, "import socket; print(socket.gethostname())")
        assert content["status"] == "ok"
        assert out.strip() == f"{instance.name}-box" != socket.gethostname()
        assert run_cell(kc, "import os; print(os.getcwd())")[1].strip() == "/tmp"
        assert len(kernel_processes(instance)) == 1

        # SIGINT reaches the kernel inside the container: the cell stops, the kernel lives on
        msg_id = kc.execute("import time; time.sleep(60)")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait until the cell runs
            msg = kc.get_iopub_msg(timeout=10)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
                break
        time.sleep(0.5)
        started = time.monotonic()
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=15)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - started < 10
        for _ in range(3):  # under load the first cell after an interrupt can still see it: the kernel lives on
            content, out = run_cell(kc, "print(6 * 7)")
            if out.strip() == "42":
                break
        assert out.strip() == "42", content

        # another server process can pick the kernel up from the provisioner's info
        assert isinstance(km.provisioner, ik.DockerInstanceProvisioner)
        info = asyncio.run(km.provisioner.get_provisioner_info())
        assert info["container"] == instance.name and info["pid"] > 0
        other = ik.DockerInstanceProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
        mine = {k: v for k, v in info.items() if k != "connection_info"}  # jupyter_client's holds a bytes key
        asyncio.run(other.load_provisioner_info({**json.loads(json.dumps(mine)), "connection_info": {}}))
        assert other.has_process and asyncio.run(other.poll()) is None
        info["exec_id"] = None  # the daemon may have forgotten the exec: the pid inside the container decides
        asyncio.run(other.load_provisioner_info(info))
        assert asyncio.run(other.poll()) is None
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert not km.is_alive()
    assert kernel_processes(instance) == []
    assert ik._read(instance, f"{ik.RUN_DIR}/{km.kernel_id}.json") is None  # its files are cleaned up
    ik.remove_kernelspec("box", workspace="ws")
    assert not (kernels / "aml-ws-box").exists()
    probe, bundle = ik.prepare_container(instance.name)  # what a backend may call ahead of the first kernel
    assert probe["version"] == "3.11" and not probe["ipykernel"] and bundle.startswith(ik.BUNDLE_ROOT)


def test_kill_stops_the_kernels_process_group(kernels: Path, registered: None, instance: Any) -> None:
    ik.install_kernelspec("box2", instance.name, workspace="ws")
    km = KernelManager(kernel_name="aml-ws-box2", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    km.start_kernel(cwd=str(kernels))  # a host folder the container lacks: the image's working directory
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        code = ("import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', "
                "'import time; time.sleep(300)', 'sleeper']); print(os.getcwd())")
        assert run_cell(kc, code)[1].strip() == "/"
        assert len(kernel_processes(instance)) == 2  # the kernel and the child it started
    finally:
        kc.stop_channels()
    km.shutdown_kernel(now=True)  # SIGKILL to the group inside the container
    assert not km.is_alive()
    deadline = time.monotonic() + 10
    while kernel_processes(instance) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernel_processes(instance) == []


def test_a_non_root_instance_restarts_its_kernel(kernels: Path, registered: None) -> None:
    """The container's user (not root) reads the connection file and the copied ipykernel; a restart
    replaces the kernel process."""
    container = start_instance(manylinux_image(ensure_engine()), user="1000:1000")
    try:
        ik.install_kernelspec("user", container.name, workspace="ws")
        km = KernelManager(kernel_name="aml-ws-user",
                           kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=120)
            assert run_cell(kc, "import os; print(os.getuid(), os.getpid())")[1].split()[0] == "1000"
            before = kernel_processes(container)
            km.restart_kernel(now=True)
            kc.wait_for_ready(timeout=60)
            assert run_cell(kc, "print(6 * 7)")[1].strip() == "42"
            after = kernel_processes(container)
            assert len(before) == len(after) == 1 and before != after
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
        assert kernel_processes(container) == []

        km = KernelManager(kernel_name="aml-ws-user",  # then the instance stops under a running kernel
                           kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
        km.start_kernel()
        container.kill()
        assert not km.is_alive()
        km.shutdown_kernel(now=True)  # nothing left to signal or clean: no error
        assert not km.has_kernel
    finally:
        container.remove(force=True)


def test_missing_ipykernel_is_a_clear_error(kernels: Path, registered: None, instance: Any) -> None:
    folder = ik.install_kernelspec("bare", instance.name, workspace="ws")
    spec = json.loads((folder / "kernel.json").read_text())
    spec["metadata"]["kernel_provisioner"]["config"]["provide_ipykernel"] = False
    (folder / "kernel.json").write_text(json.dumps(spec))
    km = KernelManager(kernel_name="aml-ws-bare", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="ipykernel is not installed for python3 in container"):
        km.start_kernel()
    assert time.monotonic() - started < 10
    assert kernel_processes(instance) == []


def test_a_missing_container_or_python_is_a_clear_error(kernels: Path, registered: None, instance: Any) -> None:
    ik.install_kernelspec("gone", "no-such-container-aml", workspace="ws")
    km = KernelManager(kernel_name="aml-ws-gone", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    with pytest.raises(RuntimeError, match="'no-such-container-aml' does not exist"):
        km.start_kernel()
    ik.install_kernelspec("nopy", instance.name, workspace="ws", python="/no/python")
    km = KernelManager(kernel_name="aml-ws-nopy", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    with pytest.raises(RuntimeError, match="cannot run '/no/python' in container"):
        km.start_kernel()


def test_a_bundle_the_image_cannot_load_is_a_clear_error(kernels: Path, registered: None, bare_instance: Any) -> None:
    ik.install_kernelspec("bare", bare_instance.name, workspace="ws")
    km = KernelManager(kernel_name="aml-ws-bare", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    with pytest.raises(RuntimeError, match=r"cannot load it .*librt\.so\.1"):
        km.start_kernel()
    assert kernel_processes(bare_instance) == []


def test_the_bundle_is_built_for_the_containers_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another CPU and Python than the host's: pip picks that platform's binary wheels (real PyPI)."""
    monkeypatch.setenv(ik.BUNDLE_CACHE_ENV, str(tmp_path))
    probe = {"impl": "cpython", "version": "3.12", "machine": "aarch64", "libc": ["glibc", "2.31"]}
    bundle = ik.ensure_bundle(probe)
    zmq = next(bundle.glob("zmq/backend/cython/_zmq*.so")).read_bytes()
    assert zmq[:4] == b"\x7fELF" and int.from_bytes(zmq[18:20], "little") == 183  # EM_AARCH64
    assert (bundle / "ipykernel" / "__init__.py").exists()
    assert not (bundle / "ipykernel" / "__pycache__").exists()  # the host's bytecode would not fit 3.12
    started = time.monotonic()
    assert ik.ensure_bundle(probe) == bundle and time.monotonic() - started < 1  # cached
    assert ik._platform_tags({**probe, "libc": ["", ""]}) == ["musllinux_1_2_aarch64", "musllinux_1_1_aarch64"]
    with pytest.raises(RuntimeError, match="C library is uclibc"):
        ik._platform_tags({**probe, "libc": ["uclibc", "1.0"]})
    with pytest.raises(RuntimeError, match="CPython only"):
        ik.ensure_bundle({**probe, "impl": "pypy"})


def test_a_bundle_that_cannot_be_built_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ik.BUNDLE_CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(ik, "IPYKERNEL_REQUIREMENT", "ipykernel==0.0.1.dev999")
    probe = {"impl": "cpython", "version": "3.11", "machine": "x86_64", "libc": ["glibc", "2.36"]}
    with pytest.raises(RuntimeError, match=r"(?s)could not build ipykernel for Python 3\.11 on the host: .*dev999"):
        ik.ensure_bundle(probe)
    assert [p.name for p in tmp_path.iterdir()] == [".lock"]  # no half-built bundle left behind


async def test_the_jupyter_server_lists_and_runs_the_instance_kernel(
        jp_fetch: Any, jp_data_dir: Path, registered: None, instance: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default folder is one the running server reads; its kernel manager starts and stops the kernel."""
    monkeypatch.delenv(ik.KERNELS_DIR_ENV, raising=False)
    monkeypatch.setenv(ik.BUNDLE_CACHE_ENV, str(USERS_BUNDLE_CACHE))  # pytest-jupyter gave HOME a tmp folder
    folder = ik.install_kernelspec("srv", instance.name, workspace="ws")
    assert folder.parent == Path(jp_data_dir) / "kernels"
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert specs["aml-ws-srv"]["spec"]["display_name"] == "Python (aml: srv)"
    body = json.dumps({"name": "aml-ws-srv"})
    kernel = json.loads((await jp_fetch("api", "kernels", method="POST", body=body, request_timeout=180)).body)
    assert len(kernel_processes(instance)) == 1
    await jp_fetch("api", "kernels", kernel["id"], method="DELETE", request_timeout=60)
    assert kernel_processes(instance) == []
    ik.remove_kernelspec("srv", workspace="ws")
    assert "aml-ws-srv" not in json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
