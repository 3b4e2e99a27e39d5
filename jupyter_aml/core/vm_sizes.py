"""v1's VM size names and the per-node limits they set here (docs/compute.md has the table).

A size names the CPU and memory a node may use: a Docker container gets ``--cpus``/``--memory``, a Dask worker
gets ``memory_limit`` and ``nthreads`` and the run's process is held to them. The figures are Azure's published
ones for each size; ``c.AMLExtension.vm_sizes`` adds custom sizes (``{"name": ..., "vCPUs": 2, "memoryGB": 4}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jupyter_aml.errors import InvalidInput

# name, vCPUs, memory (GB), GPUs, family
BUILTIN_SIZES: tuple[tuple[str, float, float, int, str], ...] = (
    ("STANDARD_D1_V2", 1, 3.5, 0, "standardDv2Family"),
    ("STANDARD_D2_V2", 2, 7, 0, "standardDv2Family"),
    ("STANDARD_D3_V2", 4, 14, 0, "standardDv2Family"),
    ("STANDARD_D4_V2", 8, 28, 0, "standardDv2Family"),
    ("STANDARD_D11_V2", 2, 14, 0, "standardDv2Family"),
    ("STANDARD_D12_V2", 4, 28, 0, "standardDv2Family"),
    ("STANDARD_DS1_V2", 1, 3.5, 0, "standardDSv2Family"),
    ("STANDARD_DS2_V2", 2, 7, 0, "standardDSv2Family"),
    ("STANDARD_DS3_V2", 4, 14, 0, "standardDSv2Family"),
    ("STANDARD_DS4_V2", 8, 28, 0, "standardDSv2Family"),
    ("STANDARD_DS11_V2", 2, 14, 0, "standardDSv2Family"),
    ("STANDARD_DS12_V2", 4, 28, 0, "standardDSv2Family"),
    ("STANDARD_D2S_V3", 2, 8, 0, "standardDSv3Family"),
    ("STANDARD_D4S_V3", 4, 16, 0, "standardDSv3Family"),
    ("STANDARD_D8S_V3", 8, 32, 0, "standardDSv3Family"),
    ("STANDARD_E4S_V3", 4, 32, 0, "standardESv3Family"),
    ("STANDARD_F2S_V2", 2, 4, 0, "standardFSv2Family"),
    ("STANDARD_F4S_V2", 4, 8, 0, "standardFSv2Family"),
    ("STANDARD_NC6", 6, 56, 1, "standardNCFamily"),
    ("STANDARD_NC12", 12, 112, 2, "standardNCFamily"),
    ("STANDARD_NC6S_V3", 6, 112, 1, "standardNCSv3Family"),
)


def size_table(custom: Iterable[Mapping[str, Any]] = ()) -> dict[str, dict[str, Any]]:
    """Every size by its upper-case name: the built-in ones, then the operator's custom ones (which may
    replace a built-in figure)."""
    table = {name: {"name": name, "vCPUs": float(cpu), "memoryGB": float(mem), "gpus": gpu, "family": family,
                    "custom": False}
             for name, cpu, mem, gpu, family in BUILTIN_SIZES}
    for entry in custom:
        try:
            name = str(entry["name"]).upper()
            cpus, memory = float(entry["vCPUs"]), float(entry["memoryGB"])
            row = {"name": name, "vCPUs": cpus, "memoryGB": memory, "gpus": int(entry.get("gpus", 0)),
                   "family": str(entry.get("family", "custom")), "custom": True}
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"custom VM size {dict(entry)!r} is not valid: {exc}",
                               hint='give {"name": "MY_SIZE", "vCPUs": 2, "memoryGB": 4} (gpus optional)') from None
        if cpus <= 0 or memory <= 0:
            raise InvalidInput(f"custom VM size {name!r} needs positive vCPUs and memoryGB",
                               hint="e.g. vCPUs 0.5 and memoryGB 1")
        table[name] = row
    return table


def resolve(vm_size: str, table: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    """The row of ``vm_size`` (any case), or an error listing the valid names."""
    row = table.get(vm_size.upper())
    if row is None:
        raise InvalidInput(f"vm_size {vm_size!r} is not a known size",
                           hint="valid sizes: " + ", ".join(sorted(table)) +
                           " (operators add custom ones with c.AMLExtension.vm_sizes)")
    return row
