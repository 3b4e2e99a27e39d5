"""Compute backends are discovered through the ``jupyter_aml.compute`` entry-point group.

A broken plugin is logged and skipped, never fatal: the built-in local backend always remains.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from jupyter_aml.compute.base import ComputeBackend
from jupyter_aml.errors import InvalidInput

log = logging.getLogger(__name__)


def backend_types() -> dict[str, type[ComputeBackend]]:
    found: dict[str, type[ComputeBackend]] = {}
    for ep in entry_points(group="jupyter_aml.compute"):
        try:
            cls = ep.load()
        except Exception:  # a broken plugin must not take the service down
            log.exception("compute backend plugin %r failed to load; skipping it", ep.name)
            continue
        if isinstance(cls, type) and issubclass(cls, ComputeBackend):
            found[ep.name] = cls
    if "local" not in found:  # running from a source tree without installed metadata
        from jupyter_aml.compute.local import LocalProcessBackend

        found["local"] = LocalProcessBackend
    return found


def build_backends(specs: list[dict[str, Any]]) -> dict[str, ComputeBackend]:
    """Instantiate configured compute targets: ``[{"name": ..., "type": ..., **settings}]``."""
    types = backend_types()
    targets: dict[str, ComputeBackend] = {}
    for spec in specs:
        spec = dict(spec)
        name, kind = spec.pop("name"), spec.pop("type", "local")
        if kind not in types:
            raise InvalidInput(
                f"compute target {name!r} has unknown type {kind!r}",
                hint="installed types: " + ", ".join(sorted(types)),
            )
        targets[name] = types[kind](name, **spec)
    return targets
