"""Compute targets through the ``azureml`` shim, written as v1 users write them, against a real service process
whose AmlCompute clusters are real embedded Dask clusters: the create-if-missing idiom, a run's metrics, node
counts, resize, listing, sizes, refusals, deletion; an instance's lifecycle; and the v1 mappings and provisioning
configurations offline.

A ComputeInstance runs on a real Docker engine, with the local base image tests/serving/docker_env.py makes."""

from __future__ import annotations

import copy
import re
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from jupyter_aml.envbuild.venv import SHIM_DIR
from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.sdk import compute_status as cs
from jupyter_aml.sdk.compute import AmlCompute, ComputeInstance, ComputeTarget, ComputeTargetException
from tests.e2e.conftest import ServiceProcess
from tests.serving.docker_env import ensure_engine, python_base_image

TRAIN = """
from azureml.core import Run
run = Run.get_context()
run.log("accuracy", 0.91)
run.log("loss", 0.5)
run.log("loss", 0.25)
print("trained on the cluster")
"""
SLEEP = "import time\nprint('started', flush=True)\ntime.sleep(120)\n"


@pytest.fixture
def azureml(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """``azureml`` imported through the shim, as in a run or a notebook without the real SDK."""
    monkeypatch.syspath_prepend(str(SHIM_DIR))
    for name in [m for m in sys.modules if m == "azureml" or m.startswith("azureml.")]:
        monkeypatch.delitem(sys.modules, name)
    import azureml.core

    assert azureml.core.VERSION.startswith("1.61.0+jupyter.aml.")
    yield azureml
    for name in [m for m in sys.modules if m == "azureml" or m.startswith("azureml.")]:
        del sys.modules[name]


def host_pids(root: Path) -> list[int]:
    """The cluster host processes started for computes under this service's root."""
    found = []
    for pid in Path("/proc").iterdir():
        if pid.name.isdigit():
            try:
                cmdline = (pid / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"jupyter_aml.compute.dask_host" in cmdline and str(root).encode() in cmdline:
                found.append(int(pid.name))
    return found


def settle(target: AmlCompute, ready: Any, timeout: float = 60) -> cs.AmlComputeStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = target.get_status()
        if ready(status) or time.monotonic() > deadline:
            return status
        time.sleep(0.25)


def workspace(svc: ServiceProcess, name: str) -> Any:
    from azureml.core import Workspace

    info = svc.info()
    return Workspace.get(name, service_url=info["url"], token=info["token"])


def test_the_v1_cluster_idiom_trains_and_the_cluster_is_inspected_resized_listed_and_deleted(
        service: ServiceProcess, azureml: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core import ComputeTarget as CoreComputeTarget
    from azureml.core import Experiment, ScriptRunConfig
    from azureml.core.compute import AmlCompute, ComputeInstance, ComputeTarget
    from azureml.core.compute_target import ComputeTargetException
    from azureml.exceptions import ComputeTargetException as FromExceptions

    assert CoreComputeTarget is ComputeTarget and FromExceptions is ComputeTargetException
    ws = workspace(service, "c")
    try:
        try:
            cpu_cluster = ComputeTarget(workspace=ws, name="cpu-cluster")
        except ComputeTargetException as exc:
            missing = exc
            config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2)
            cpu_cluster = ComputeTarget.create(ws, "cpu-cluster", config)
        else:
            raise AssertionError("a new workspace has no cpu-cluster")
        assert missing.message == ("ComputeTargetNotFound: Compute Target with name cpu-cluster not found in "
                                   "provided workspace") and isinstance(missing, NotFound)
        assert type(cpu_cluster) is AmlCompute and cpu_cluster.provisioning_state == "Creating"
        capsys.readouterr()
        cpu_cluster.wait_for_completion(show_output=True)
        shown = capsys.readouterr().out
        assert re.fullmatch(r'Creating\.*SucceededProvisioning operation finished, operation "Succeeded"\n'
                            r"AmlCompute wait for completion finished\n", shown), shown
        assert (cpu_cluster.provisioning_state, cpu_cluster.vm_size, cpu_cluster.type) == \
            ("Succeeded", "STANDARD_D2_V2", "AmlCompute")
        scale = cpu_cluster.scale_settings
        assert (scale.minimum_node_count, scale.maximum_node_count, scale.idle_seconds_before_scaledown) == \
            (0, 2, 1800)

        src_dir = tmp_path / "src"
        src_dir.mkdir()
        (src_dir / "train.py").write_text(TRAIN)
        src = ScriptRunConfig(source_directory=str(src_dir), script="train.py", compute_target=cpu_cluster)
        run = Experiment(ws, "e").submit(src)
        run.wait_for_completion()
        assert run.get_status() == "Completed" and run.get_details()["target"] == "cpu-cluster"
        assert run.get_metrics() == {"accuracy": 0.91, "loss": [0.5, 0.25]}

        # the run's node stays for idle_seconds_before_scaledown (1800 s): one idle node, nothing moving
        status = settle(cpu_cluster, lambda s: s.node_state_counts.idle_node_count == 1)
        counts = status.node_state_counts
        assert (status.current_node_count, status.target_node_count, status.allocation_state) == (1, 1, "Steady")
        assert (counts.idle_node_count, counts.running_node_count, counts.preparing_node_count) == (1, 0, 0)
        assert status.provisioning_state == "Succeeded" and status.errors == []
        assert status.serialize()["nodeStateCounts"]["idleNodeCount"] == 1
        assert [n["nodeState"] for n in cpu_cluster.list_nodes()] == ["idle"]

        cpu_cluster.update(max_nodes=3, idle_seconds_before_scaledown=600)
        scale = cpu_cluster.scale_settings
        assert (scale.maximum_node_count, scale.idle_seconds_before_scaledown) == (3, 600)
        with pytest.raises(ComputeTargetException) as refused:
            cpu_cluster.update(min_nodes=5)
        assert isinstance(refused.value, InvalidInput)
        assert "max_nodes (3) is less than min_nodes (5)" in refused.value.message

        listed = ComputeTarget.list(ws)
        assert [(t.name, type(t)) for t in listed] == [("local", ComputeTarget), ("cpu-cluster", AmlCompute)]
        targets = ws.compute_targets
        assert sorted(targets) == ["cpu-cluster", "local"] and targets["cpu-cluster"] == cpu_cluster
        assert targets["cpu-cluster"].scale_settings.maximum_node_count == 3
        local = ComputeTarget(ws, "local")
        assert (type(local), local.type, local.get_status().state) == (ComputeTarget, "local", "Running")
        assert type(AmlCompute(ws, "cpu-cluster")) is AmlCompute
        with pytest.raises(ComputeTargetException, match="is of type 'AmlCompute', not 'ComputeInstance'"):
            ComputeInstance(ws, "cpu-cluster")
        with pytest.raises(ComputeTargetException, match="configured for the service") as conflict:
            local.delete()
        assert isinstance(conflict.value, Conflict)
        with pytest.raises(ComputeTargetException, match="already exists") as again:
            ComputeTarget.create(ws, "cpu-cluster", AmlCompute.provisioning_configuration(max_nodes=1))
        assert isinstance(again.value, Conflict)

        sizes = AmlCompute.supported_vmsizes(ws)
        d2 = next(s for s in sizes if s["name"] == "STANDARD_D2_V2")
        assert d2 == {"name": "STANDARD_D2_V2", "vCPUs": 2, "gpus": 0, "memoryGB": 7, "maxResourceVolumeMB": 0}
        with pytest.warns(UserWarning, match="location has no effect"):
            AmlCompute.supported_vmsizes(ws, location="westeurope")

        cpu_cluster.delete()
        assert cpu_cluster.provisioning_state == "Deleting"
        cpu_cluster.wait_for_completion(is_delete_operation=True)
        with pytest.raises(ComputeTargetException, match="ComputeTargetNotFound"):
            ComputeTarget(workspace=ws, name="cpu-cluster")
        assert sorted(ws.compute_targets) == ["local"]
        deadline = time.monotonic() + 15
        while host_pids(service.root) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not host_pids(service.root)
    finally:
        for target in ComputeTarget.list(ws):
            if target.type == "AmlCompute":
                target.delete(force=True)


def test_min_nodes_are_waited_for_and_a_busy_cluster_is_deleted_only_with_force(
        service: ServiceProcess, azureml: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core import Experiment, ScriptRunConfig
    from azureml.core.compute import AmlCompute, ComputeTarget
    from azureml.core.compute_target import ComputeTargetException

    ws = workspace(service, "busy")
    config = AmlCompute.provisioning_configuration(min_nodes=1, max_nodes=1, description="warm",
                                                   tags={"team": "ml"})
    cluster = ComputeTarget.create(ws, "warm-cluster", config)
    try:
        with pytest.raises(ComputeTargetException, match="min_node_count 2 is more than the cluster's min_nodes"):
            cluster.wait_for_completion(min_node_count=2)
        capsys.readouterr()
        cluster.wait_for_completion(show_output=True, min_node_count=1, timeout_in_minutes=2)
        assert capsys.readouterr().out.endswith("Minimum number of nodes requested have been provisioned\n")
        assert cluster.get_status().current_node_count >= 1
        assert (cluster.description, cluster.tags, cluster.vm_size) == ("warm", {"team": "ml"}, "STANDARD_D2_V2")

        src = tmp_path / "src"  # tmp_path also holds the service's root: not part of the snapshot
        src.mkdir()
        (src / "sleep.py").write_text(SLEEP)
        run = Experiment(ws, "busy").submit(ScriptRunConfig(str(src), "sleep.py", compute_target=cluster))
        deadline = time.monotonic() + 60
        while run.get_status() != "Running" and time.monotonic() < deadline:
            time.sleep(0.25)
        status = settle(cluster, lambda s: s.node_state_counts.running_node_count == 1)
        counts = status.node_state_counts
        assert (status.current_node_count, status.target_node_count, status.allocation_state) == (1, 1, "Steady")
        assert (counts.running_node_count, counts.idle_node_count) == (1, 0)
        assert [(n["nodeState"], n["runId"]) for n in cluster.list_nodes()] == [("running", run.id)]
        assert status.serialize()["nodeStateCounts"]["runningNodeCount"] == 1
        with pytest.raises(ComputeTargetException, match="queued or running") as busy:
            cluster.delete()
        assert isinstance(busy.value, Conflict) and "force" in (busy.value.hint or "")
        cluster.delete(force=True)
        assert run.get_status() == "Canceled"
        assert [t.name for t in ComputeTarget.list(ws)] == ["local"]
    finally:
        if "warm-cluster" in ws.compute_targets:
            cluster.delete(force=True)


def test_an_instance_is_created_used_stopped_started_restarted_and_deleted(
        service: ServiceProcess, azureml: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core import Experiment, ScriptRunConfig
    from azureml.core.compute import AmlCompute, ComputeInstance, ComputeTarget
    from azureml.core.compute_target import ComputeTargetException

    image = python_base_image(ensure_engine())
    ws = workspace(service, "inst")
    config = ComputeInstance.provisioning_configuration(image=image, max_concurrent_runs=1)
    instance = ComputeTarget.create(ws, "my-instance", config)
    try:
        assert type(instance) is ComputeInstance and instance.status.state == "Creating"
        capsys.readouterr()
        instance.wait_for_completion(show_output=True)
        assert re.fullmatch(r'Creating\.*SucceededProvisioning operation finished, operation "Succeeded"\n',
                            capsys.readouterr().out)
        status = instance.get_status()
        assert (status.state, status.errors, instance.provisioning_state) == ("Running", [], "Succeeded")
        assert (instance.image, instance.max_concurrent_runs, instance.vm_size) == (image, 1, "STANDARD_D2_V2")
        assert type(ComputeTarget(ws, "my-instance")) is ComputeInstance
        with pytest.raises(ComputeTargetException, match="is of type 'ComputeInstance', not 'AmlCompute'"):
            AmlCompute(ws, "my-instance")

        src = tmp_path / "src"
        src.mkdir()
        (src / "train.py").write_text(TRAIN)
        run = Experiment(ws, "inst").submit(ScriptRunConfig(str(src), "train.py", compute_target=instance))
        run.wait_for_completion()
        assert run.get_status() == "Completed" and run.get_metrics()["accuracy"] == 0.91

        # the run is Completed once it says so; its slot is freed when its process has exited, a moment later
        deadline = time.monotonic() + 30
        while instance.get_status().active_runs and time.monotonic() < deadline:
            time.sleep(0.1)
        instance.stop(show_output=False)
        assert (instance.get_status().state, instance.provisioning_state) == ("Stopped", "Succeeded")
        instance.start(show_output=False)
        assert instance.get_status().state == "Running"
        instance.restart(wait_for_completion=True, show_output=False)
        assert instance.get_status().state == "Running"
        assert [type(t) for t in ComputeTarget.list(ws)] == [ComputeTarget, ComputeInstance]
        instance.delete()
        with pytest.raises(ComputeTargetException, match="ComputeTargetNotFound"):
            ComputeInstance(ws, "my-instance")
    finally:
        if "my-instance" in ws.compute_targets:
            instance.delete(force=True)


# -- offline: the v1 mappings and provisioning configurations ---------------------------------------------------
def test_the_shim_gives_each_v1_module_its_names(azureml: ModuleType) -> None:
    from azureml.core.compute.amlcompute import AmlComputeProvisioningConfiguration, AmlComputeStatus, ScaleSettings
    from azureml.core.compute.compute import ComputeTarget as Base
    from azureml.core.compute.compute import ComputeTargetProvisioningConfiguration
    from azureml.core.compute.computeinstance import ComputeInstanceProvisioningConfiguration

    assert Base is ComputeTarget and ScaleSettings is cs.ScaleSettings and AmlComputeStatus is cs.AmlComputeStatus
    assert issubclass(AmlComputeProvisioningConfiguration, ComputeTargetProvisioningConfiguration)
    assert issubclass(ComputeInstanceProvisioningConfiguration, ComputeTargetProvisioningConfiguration)
    from azureml.core.compute import AksCompute  # v1 scripts import it; using it says there is none here

    with pytest.raises(ComputeTargetException, match="AKS clusters"):
        AksCompute(None, "aks")
    with pytest.raises(ImportError):
        from azureml.core.compute import HDInsightCompute  # noqa: F401 - not a name the shim has


def test_cluster_status_maps_the_node_list_to_v1_counts() -> None:
    nodes = [{"name": f"n{i}", "state": s} for i, s in enumerate(["idle", "busy", "busy", "starting", "leaving",
                                                                  "unusable"])]
    status = cs.AmlComputeStatus({"state": "Running", "nodes": nodes, "min_nodes": 0, "max_nodes": 8,
                                  "active_runs": 2, "queued_runs": 3, "vm_size": "STANDARD_D2_V2"})
    counts = status.node_state_counts
    assert (counts.idle_node_count, counts.running_node_count, counts.preparing_node_count,
            counts.leaving_node_count, counts.unusable_node_count, counts.preempted_node_count) == (1, 2, 1, 1, 1, 0)
    # 6 nodes now, 5 of them staying; 5 runs want a node each
    assert (status.current_node_count, status.target_node_count, status.allocation_state) == (6, 5, "Resizing")
    assert status.serialize()["nodeStateCounts"] == {
        "idleNodeCount": 1, "runningNodeCount": 2, "preparingNodeCount": 1, "unusableNodeCount": 1,
        "leavingNodeCount": 1, "preemptedNodeCount": 0}
    capped = cs.AmlComputeStatus({"state": "Running", "nodes": [], "min_nodes": 0, "max_nodes": 2, "queued_runs": 9})
    assert (capped.current_node_count, capped.target_node_count, capped.allocation_state) == (0, 2, "Resizing")
    warm = cs.AmlComputeStatus({"state": "Running", "nodes": [{"name": "a", "state": "idle"}], "min_nodes": 1,
                                "max_nodes": 2})
    assert (warm.target_node_count, warm.allocation_state) == (1, "Steady")
    failed = cs.AmlComputeStatus({"state": "Failed", "error": "no Dask scheduler answers", "nodes": []})
    assert failed.provisioning_state == "Failed"
    assert failed.errors == [{"code": "ComputeTargetError", "message": "no Dask scheduler answers"}]


def test_states_map_to_v1_provisioning_and_instance_states() -> None:
    assert [cs.provisioning_state(s) for s in ("Creating", "Running", "Stopped", "Restarting", "Failed",
                                               "Deleting")] == \
        ["Creating", "Succeeded", "Succeeded", "Succeeded", "Failed", "Deleting"]
    instance = cs.ComputeInstanceStatus({"state": "Stopped", "active_runs": 0, "vm_size": "STANDARD_DS3_V2"})
    assert (instance.state, instance.errors, instance.serialize()["vmSize"]) == ("Stopped", [], "STANDARD_DS3_V2")
    assert cs.instance_state("Starting") == "Starting" and cs.instance_state("Exploded") == "Unknown"
    # a record read back (deserialize) picks the class from its type, without asking the service
    ws: Any = SimpleNamespace(name="w")
    target = ComputeTarget.deserialize(ws, {"workspace": "w", "name": "ci", "type": "ComputeInstance",
                                            "state": "Restarting", "max_concurrent_runs": 2})
    assert type(target) is ComputeInstance and target.get_status is not None
    assert (target.status.state, target.provisioning_state, target.serialize()["workspace"]) == \
        ("Restarting", "Succeeded", "w")
    assert type(ComputeTarget.deserialize(ws, {"name": "gpu", "type": "AmlCompute"})) is AmlCompute
    copied = copy.deepcopy(target)
    assert type(copied) is ComputeInstance and copied == target and copied.state == "Restarting"
    assert type(ComputeTarget.deserialize(ws, {"name": "local", "type": "local"})) is ComputeTarget


def test_a_refusal_is_a_compute_target_exception_and_still_its_own_type() -> None:
    error = cs.compute_error(Conflict("compute 'x' has 1 running run(s)", hint="wait"))
    assert isinstance(error, ComputeTargetException) and isinstance(error, Conflict)
    assert (error.status, error.hint, str(error)) == (409, "wait", "compute 'x' has 1 running run(s) (wait)")
    missing = cs.not_found("gpu", NotFound("no compute 'gpu'", hint="known: local"))
    assert isinstance(missing, NotFound) and missing.hint == "known: local"


def test_cluster_configuration_sends_v1_defaults_and_warns_for_azure_only_arguments() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # v1's defaults never warn
        config = AmlCompute.provisioning_configuration()
    assert config._body("c") == {"name": "c", "type": "AmlCompute", "vm_priority": "dedicated", "min_nodes": 0}
    with pytest.warns(UserWarning, match="vm_priority has no effect.*never preempted"):
        config = AmlCompute.provisioning_configuration("standard_ds3_v2", "lowpriority", 1, 3, 120,
                                                       scheduler_address="tcp://10.0.0.5:8786")
    assert config._body("c") == {"name": "c", "type": "AmlCompute", "vm_size": "standard_ds3_v2",
                                 "vm_priority": "lowpriority", "min_nodes": 1, "max_nodes": 3,
                                 "idle_seconds_before_scaledown": 120, "scheduler_address": "tcp://10.0.0.5:8786"}
    with pytest.warns(UserWarning) as caught:
        AmlCompute.provisioning_configuration(admin_username="azureuser", admin_user_password="s3cret!",
                                              vnet_name="vnet", subnet_name="default", identity_type="SystemAssigned",
                                              enable_node_public_ip=False, remote_login_port_public_access="Enabled")
    messages = [str(w.message) for w in caught]
    for name in ("admin_username", "admin_user_password", "vnet_name", "subnet_name", "identity_type",
                 "enable_node_public_ip", "remote_login_port_public_access"):
        assert any(m.startswith(f"{name} has no effect") for m in messages), name
    assert not any("s3cret" in m for m in messages)  # a password is never echoed
    for bad, words in (({"min_nodes": 3, "max_nodes": 2}, "max_nodes (2)"), ({"max_nodes": 0}, "at least 1"),
                       ({"vm_priority": "spot"}, "vm_priority")):
        with pytest.raises(ComputeTargetException, match=re.escape(words)):
            AmlCompute.provisioning_configuration(**bad).validate_configuration()


def test_instance_configuration_takes_the_workspace_extras_and_refuses_setup_scripts() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = ComputeInstance.provisioning_configuration()
    assert config._body("ci") == {"name": "ci", "type": "ComputeInstance"}  # the service's STANDARD_D2_V2
    config = ComputeInstance.provisioning_configuration(
        vm_size="STANDARD_DS3_V2", idle_time_before_shutdown="PT1H30M", description="notebooks",
        image="jupyter-aml-test/python:host-3.11", max_concurrent_runs=3, when_stopped="refuse")
    assert config._body("ci") == {"name": "ci", "type": "ComputeInstance", "vm_size": "STANDARD_DS3_V2",
                                  "description": "notebooks", "idle_time_before_shutdown_minutes": 90,
                                  "image": "jupyter-aml-test/python:host-3.11", "max_concurrent_runs": 3,
                                  "when_stopped": "refuse"}
    assert ComputeInstance.provisioning_configuration(
        idle_time_before_shutdown_minutes=15).idle_time_before_shutdown_minutes == 15
    with pytest.warns(UserWarning, match="ssh_public_access has no effect"):
        ComputeInstance.provisioning_configuration(ssh_public_access=True)
    with pytest.warns(UserWarning, match="assigned_user_object_id has no effect.*workspace's roles"):
        ComputeInstance.provisioning_configuration(assigned_user_object_id="0000")
    with pytest.raises(ComputeTargetException, match="setup scripts"):
        ComputeInstance.provisioning_configuration(setup_scripts_settings={"creation_script": "x.sh"})
    with pytest.raises(ComputeTargetException, match="PT30M"):
        ComputeInstance.provisioning_configuration(idle_time_before_shutdown="half an hour")
    with pytest.raises(ComputeTargetException, match="when_stopped"):
        ComputeInstance.provisioning_configuration(when_stopped="maybe").validate_configuration()


def test_a_cluster_manager_and_an_instance_environment_are_sent_as_given() -> None:
    config = AmlCompute.provisioning_configuration(max_nodes=8, cluster_class="dask_jobqueue.SLURMCluster",
                                                   cluster_kwargs={"cores": 1, "queue": "gpu"})
    assert config._body("slurm") == {"name": "slurm", "type": "AmlCompute", "vm_priority": "dedicated",
                                     "min_nodes": 0, "max_nodes": 8, "cluster_class": "dask_jobqueue.SLURMCluster",
                                     "cluster_kwargs": {"cores": 1, "queue": "gpu"}}
    instance = ComputeInstance.provisioning_configuration(environment="sklearn:2")
    assert instance._body("ci") == {"name": "ci", "type": "ComputeInstance", "environment": "sklearn:2"}
