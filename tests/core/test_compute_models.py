"""v1's provisioning fields as the compute payloads take them, the VM size table, and the contract's defaults."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from jupyter_aml.compute.base import ComputeBackend, ExitCallback, RunJob
from jupyter_aml.core.compute_models import ComputeCreate, ComputeUpdate
from jupyter_aml.core.vm_sizes import resolve, size_table
from jupyter_aml.errors import InvalidInput


def test_cluster_defaults_are_v1s() -> None:
    spec = ComputeCreate(name="cpu-cluster", type="AmlCompute")
    assert (spec.vm_size, spec.min_nodes, spec.max_nodes) == ("STANDARD_D2_V2", 0, 4)
    assert (spec.idle_seconds_before_scaledown, spec.vm_priority) == (1800, "dedicated")


@pytest.mark.parametrize(("fields", "words"), [
    ({"min_nodes": -1}, "greater than or equal to 0"),
    ({"scheduler_address": "127.0.0.1:8786"}, "should match pattern"),
    ({"scheduler_address": "tcp://0"}, "should match pattern"),  # no port: Dask could not parse it
])
def test_bad_cluster_fields_are_schema_errors(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        ComputeCreate(name="cpu-cluster", type="AmlCompute", **fields)


@pytest.mark.parametrize(("fields", "words", "fix"), [
    ({"min_nodes": 3, "max_nodes": 2}, "max_nodes (2) is less than min_nodes (3)", "max_nodes >= min_nodes"),
    ({"scheduler_address": "tcp://127.0.0.1:8786", "cluster_class": "dask_jobqueue.SLURMCluster"}, "both given",
     "not both"),
    ({"cluster_kwargs": {"cores": 2}}, "cluster_kwargs needs cluster_class", "name the cluster manager"),
])
def test_rules_between_cluster_fields_are_refused_with_the_fix(fields: dict[str, Any], words: str, fix: str) -> None:
    spec = ComputeCreate(name="cpu-cluster", type="AmlCompute", **fields)
    with pytest.raises(InvalidInput) as caught:
        spec.check()
    assert words in caught.value.message and fix in (caught.value.hint or "")


def test_an_instance_takes_no_dask_engine_and_names_follow_v1s_rule() -> None:
    with pytest.raises(InvalidInput, match="ComputeInstance takes no scheduler_address"):
        ComputeCreate(name="dev-box", type="ComputeInstance", scheduler_address="tcp://127.0.0.1:1").check()
    ComputeCreate(name="cpu-cluster", type="AmlCompute").check()  # v1's defaults pass
    for bad in ("1box", "a", "has_underscore", "x" * 33):
        with pytest.raises(ValidationError):
            ComputeCreate(name=bad, type="ComputeInstance")
    with pytest.raises(ValidationError):
        ComputeUpdate(min_nodes=-2)


def test_sizes_resolve_in_any_case_and_an_unknown_one_lists_the_valid_ones() -> None:
    table = size_table()
    assert resolve("standard_ds3_v2", table)["vCPUs"] == 4.0
    assert resolve("STANDARD_D2_V2", table)["memoryGB"] == 7.0
    with pytest.raises(InvalidInput) as caught:
        resolve("STANDARD_NOPE", table)
    assert "STANDARD_DS3_V2" in str(caught.value) and "c.AMLExtension.vm_sizes" in str(caught.value)


def test_custom_sizes_join_and_bad_ones_say_what_to_give() -> None:
    table = size_table([{"name": "tiny", "vCPUs": 0.5, "memoryGB": 1}])
    assert table["TINY"]["custom"] is True and table["TINY"]["vCPUs"] == 0.5
    with pytest.raises(InvalidInput, match="positive vCPUs"):
        size_table([{"name": "zero", "vCPUs": 0, "memoryGB": 1}])
    with pytest.raises(InvalidInput, match="is not valid"):
        size_table([{"name": "nomem", "vCPUs": 1}])


class _AlwaysOn(ComputeBackend):
    type_name = "test"

    async def start(self, job: RunJob, on_exit: ExitCallback) -> dict[str, Any]:
        return {}

    async def cancel(self, run_id: str) -> None:
        return None

    async def is_alive(self, run_id: str, agent_info: dict[str, Any]) -> bool:
        return False


def test_an_always_on_target_refuses_lifecycle_calls_with_the_reason() -> None:
    backend = _AlwaysOn("box", max_concurrent_runs=3)
    assert (backend.slots(), backend.ready(), backend.state()) == (3, True, "Running")
    assert "3 of 3 busy" in backend.waiting_reason(3)
    changes: list[int] = []
    backend.on_change(lambda: changes.append(1))
    backend.notify()
    assert changes == [1]
    assert backend.describe()["nodes"] == [] and backend.describe()["state"] == "Running"
    with pytest.raises(InvalidInput, match="cannot be started or stopped"):
        asyncio.run(backend.stop_compute())
    with pytest.raises(InvalidInput, match="no node counts"):
        asyncio.run(backend.update(max_nodes=2))
