"""Run ids in an MLflow-safe form, on the MLflow API only (v1 ids never change).

A v1 run id holds its experiment's name (``exp.v2_1765000000_ab12cd34``), and experiment names may contain
``.``; MLflow's client refuses a run id outside ``[a-zA-Z0-9][\\w-]*`` (``mlflow.utils.validation``), so
``MlflowClient().get_run(...)`` and ``mlflow.start_run(run_id=...)`` would refuse such a run before asking.
So the MLflow API shows an id with a dot in a reversible form: each ``-`` becomes ``-2d-`` and each ``.``
``-2e-`` (hyphen-hex, as percent-encoding does with ``%``), which MLflow accepts: ``exp-2e-v2_1765000000_ab12cd34``.
An id without a dot is shown as it is, so nearly every run keeps the same id in both APIs.

Reading an id back: ``-2d-`` / ``-2e-`` sequences are decoded only if the decoded id has a dot and names a run
that exists; otherwise the id is taken as it is. That keeps a dot-free v1 id that merely contains ``-2e-``
(an experiment named ``a-2e-b``) working: both forms cannot name existing runs at once unless two runs shared
their experiment-qualified timestamp and random suffix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jupyter_aml.runtime.env import mlflow_run_id as to_mlflow  # the form a run's own MLFLOW_RUN_ID has

__all__ = ["PARENT_TAG", "RunIds", "decode", "to_mlflow"]

_TOKEN = re.compile(r"-2[de]-")
_RUN_FIELDS = ("run_id", "run_uuid", "source_run_id")
PARENT_TAG = "mlflow.parentRunId"




def decode(text: str) -> str | None:
    """The id ``text`` encodes, or None if it is not the encoded form of an id with a dot."""
    if "-2e-" not in text:
        return None
    parts = _TOKEN.split(text)
    if any("-" in p or "." in p for p in parts):
        return None
    marks = [".", "-"]
    out = parts[0]
    for mark, part in zip(_TOKEN.findall(text), parts[1:], strict=True):
        out += marks[mark == "-2d-"] + part
    return out


class RunIds:
    """Reads MLflow's form of a run id back to the v1 id, with ``exists`` saying which runs are there."""

    def __init__(self, exists: Callable[[str], bool]) -> None:
        self.exists = exists

    def from_mlflow(self, text: str) -> str:
        found = decode(text)
        return found if found is not None and self.exists(found) else text

    def incoming(self, req: dict[str, Any]) -> dict[str, Any]:
        """A request's run fields, ``run_ids`` and ``mlflow.parentRunId`` tag with their v1 ids."""
        for key in _RUN_FIELDS:
            if isinstance(req.get(key), str):
                req[key] = self.from_mlflow(req[key])
        if isinstance(req.get("run_ids"), list | str):
            found = req["run_ids"]
            req["run_ids"] = [self.from_mlflow(r) if isinstance(r, str) else r
                              for r in (found if isinstance(found, list) else [found])]
        tags = req.get("tags")
        for tag in tags if isinstance(tags, list) else []:
            if isinstance(tag, dict) and tag.get("key") == PARENT_TAG and isinstance(tag.get("value"), str):
                tag["value"] = self.from_mlflow(tag["value"])
        return req


__all__ = ["RunIds", "decode", "to_mlflow"]
