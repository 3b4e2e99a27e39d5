"""MLflow traces on the workspace (core/mlflow_traces.py): what MLflow 3.17's client does with an http tracking
URI when ``@mlflow.trace`` or ``mlflow.start_span`` ends a trace, and what it reads back.

The client's flow (``mlflow/tracing/export/mlflow_v3.py``, ``store/tracking/rest_store.py``):

1. ``log_spans`` first asks ``GET <uri>/version``; this server has no such route, so the client marks span-level
   logging (the OTLP ``/v1/traces`` route) unsupported and never sends it;
2. ``POST /api/3.0/mlflow/traces`` (StartTraceV3) with the trace's info: the trace is stored in its experiment
   (and its run, the metadata ``mlflow.sourceRun``), and answered with the tag ``mlflow.artifactLocation``
   = ``mlflow-artifacts:/traces/<trace_id>/artifacts``;
3. it uploads the spans there (``PUT .../traces/<id>/artifacts/traces.json``): the artifact proxy keeps them
   in the trace's row (``artifacts_put``); reads download the same file (``artifacts_get``);
4. ``GET /api/3.0/mlflow/traces/<id>`` (trace info), ``POST /api/3.0/mlflow/traces/search``,
   ``POST /api/3.0/mlflow/traces/batchGetInfos``, ``PATCH|DELETE /api/2.0/mlflow/traces/<id>/tags`` and
   ``POST /api/2.0/mlflow/traces/delete-traces`` serve ``get_trace``, ``search_traces``, tags and deletion.

Not served, each answering ``ENDPOINT_NOT_FOUND`` or saying so: assessments and feedback, span attachments,
trace metrics and filter correlation, linking traces or prompts afterwards (``link-to-run``, ``link-prompts``),
the OTLP span route and the v2 trace routes of MLflow 2 clients.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from jupyter_aml.core.mlflow_traces import MlflowTraces, TraceRecord
from jupyter_aml.errors import Conflict, NotFound
from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api import filters
from jupyter_aml.mlflow_api.errors import RESOURCE_ALREADY_EXISTS, MlflowError, invalid, missing
from jupyter_aml.mlflow_api.experiments import decode_token, encode_token
from jupyter_aml.mlflow_api.runs import Runs

SOURCE_RUN = "mlflow.sourceRun"
ARTIFACT_LOCATION = "mlflow.artifactLocation"
TRACE_NAME = "mlflow.traceName"
DATA_FILE = "traces.json"
STATES = ("OK", "ERROR", "IN_PROGRESS", "STATE_UNSPECIFIED")
MAX_TAG_KEY, MAX_TAG_VALUE = 250, 8000  # mlflow.utils.validation: MAX_TRACE_TAG_KEY/VAL_LENGTH
MAX_PAGE = 50_000
MAX_DATA = 64 << 20  # the spans of one trace: a larger upload is refused, never cut
TRACES = filters.Schema(
    entities=frozenset({"tag", "param", "attribute"}),
    string_attributes=frozenset({"trace_id", "request_id", "state", "name", "run_id", "client_request_id"}),
    numeric_attributes=frozenset({"timestamp_ms", "execution_time_ms", "end_time_ms"}),
    aliases={"status": "state", "timestamp": "timestamp_ms", "request_time": "timestamp_ms",
             "execution_time": "execution_time_ms", "execution_duration": "execution_time_ms",
             "execution_duration_ms": "execution_time_ms"},
    names={"tag": "tag", "tags": "tag", "metadata": "param", "request_metadata": "param",
           "attribute": "attribute", "attributes": "attribute", "trace": "attribute"},
)
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)")
_DURATION = re.compile(r"(-?\d+(?:\.\d+)?)s")


def artifact_location(trace_id: str) -> str:
    return f"mlflow-artifacts:/traces/{trace_id}/artifacts"


def _millis(value: Any, name: str) -> int:
    """A protobuf JSON Timestamp (``2026-12-07T10:00:00.123Z``) in ms; ints are taken as ms too."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    found = _TIME.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise invalid(f"Invalid value {value!r} for {name}: an RFC 3339 time such as 2026-12-07T10:00:00.123Z")
    zone = "+00:00" if found.group(3) == "Z" else found.group(3)
    when = datetime.fromisoformat(found.group(1) + zone)
    return int(when.timestamp()) * 1000 + int(float(found.group(2) or "0") * 1000)


def _duration(value: Any) -> int | None:
    if value is None:
        return None
    found = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise invalid(f"Invalid value {value!r} for execution_duration: a duration such as 1.500s")
    return round(float(found.group(1)) * 1000)


def _time_text(ms: int) -> str:
    when = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _strings(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise invalid(f"Invalid {what}: a map of strings to strings")
    return dict(value)


def _check_tag(key: str, value: str) -> None:
    if len(key) > MAX_TAG_KEY:
        raise invalid(f"'key' exceeds the maximum length of {MAX_TAG_KEY} characters")
    if len(value) > MAX_TAG_VALUE:
        raise invalid(f"'value' exceeds the maximum length of {MAX_TAG_VALUE} characters")


class Traces:
    def __init__(self, runs: Runs) -> None:
        self.runs = runs
        self.store = MlflowTraces(runs.service.db)

    # -- the trace's JSON -----------------------------------------------------------------------------
    def info_json(self, workspace: str, rec: TraceRecord, exp_ids: Mapping[int, str] | None = None) -> dict[str, Any]:
        exp_id = exp_ids[rec.experiment_id] if exp_ids is not None else self._exp_id(workspace, rec.experiment_id)
        info = rec.info
        body: dict[str, Any] = {
            "trace_id": rec.trace_id,
            "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}},
            "request_time": _time_text(rec.request_time),
            "state": rec.state,
            "trace_metadata": info.get("trace_metadata", {}),
            "tags": {**info.get("tags", {}), ARTIFACT_LOCATION: artifact_location(rec.trace_id)},
        }
        if rec.execution_duration is not None:
            body["execution_duration"] = f"{rec.execution_duration / 1000:.3f}s"
        for key in ("client_request_id", "request_preview", "response_preview"):
            if info.get(key) is not None:
                body[key] = info[key]
        return body

    def _exp_id(self, workspace: str, experiment_id: int) -> str:
        exp = self.runs.support.experiment_by_id(workspace, experiment_id)
        return cv.experiment_id(exp)

    def _get(self, workspace: str, trace_id: str) -> TraceRecord:
        try:
            return self.store.get(workspace, trace_id)
        except NotFound:
            raise missing(f"Trace with ID {trace_id} not found.") from None

    def run_of(self, req: Mapping[str, Any]) -> str:
        """The run a request about one trace is about, for a run token's reach ("" for none: out of reach)."""
        if "trace" in req:  # start: the run it says it belongs to
            info = req["trace"].get("trace_info", {}) if isinstance(req["trace"], dict) else {}
            meta = info.get("trace_metadata") if isinstance(info, dict) else None
            source = meta.get(SOURCE_RUN) if isinstance(meta, dict) else None
            return self.runs.ids.from_mlflow(source) if isinstance(source, str) else ""
        exists, run_id = self.store.run_of(str(req.get("trace_id", "")))
        if not exists:
            raise missing(f"Trace with ID {req.get('trace_id')} not found.")
        return run_id or ""

    # -- endpoints ----------------------------------------------------------------------------------
    def start(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        trace = req.get("trace")
        info = trace.get("trace_info") if isinstance(trace, dict) else None
        if not isinstance(info, dict):
            raise invalid("Missing value for required parameter 'trace.trace_info'.")
        trace_id = cv.text(info, "trace_id")
        if len(trace_id) > 64 or not re.fullmatch(r"[\w.:-]+", trace_id):
            raise invalid(f"Invalid trace id {trace_id!r}")
        location = info.get("trace_location") or {}
        exp_id = (location.get("mlflow_experiment") or {}).get("experiment_id") if isinstance(location, dict) else None
        if not isinstance(exp_id, str) or not exp_id:
            raise invalid("A trace needs an MLflow experiment as its location (trace_location.mlflow_experiment)",
                          hint="Unity Catalog and inference-table locations are not served here")
        exp = self.runs.experiments.resolve(workspace, exp_id, create=True)
        metadata = _strings(info.get("trace_metadata"), "trace_metadata")
        tags = _strings(info.get("tags"), "tags")
        for key, value in tags.items():
            _check_tag(key, value)
        tags.pop(ARTIFACT_LOCATION, None)
        state = info.get("state", "STATE_UNSPECIFIED")
        if state not in STATES:
            raise invalid(f"Invalid trace state {state!r}: one of {', '.join(STATES)}")
        run_id = None
        if SOURCE_RUN in metadata:
            run = self.runs.run(workspace, self.runs.ids.from_mlflow(metadata[SOURCE_RUN]))
            if run.experiment != exp.name:
                raise invalid(f"Run {metadata[SOURCE_RUN]} is not in experiment {exp_id}: a trace is in its run's "
                              "experiment")
            run_id = run.id
        kept = {"trace_metadata": metadata, "tags": tags,
                **{k: info[k] for k in ("client_request_id", "request_preview", "response_preview")
                   if isinstance(info.get(k), str)}}
        rec = TraceRecord(trace_id, int(exp.id), run_id, _millis(info.get("request_time", 0), "request_time"),
                          _duration(info.get("execution_duration")), state, kept, False)
        try:
            rec = self.store.create(workspace, rec)
        except Conflict as exc:
            raise MlflowError(RESOURCE_ALREADY_EXISTS, exc.message) from None
        except NotFound:
            raise missing(f"Run with id={metadata.get(SOURCE_RUN)} not found") from None
        return {"trace": {"trace_info": self.info_json(workspace, rec)}}

    def get_info(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        return {"trace": {"trace_info": self.info_json(workspace, self._get(workspace, cv.text(req, "trace_id")))}}

    def batch_infos(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        found = []
        for trace_id in cv.strings(req, "trace_ids"):
            try:
                found.append(self.info_json(workspace, self.store.get(workspace, trace_id)))
            except NotFound:
                continue  # MLflow's batch answers the traces it has
        return {"trace_infos": found}

    def set_tag(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        key, value = cv.text(req, "key"), cv.text(req, "value", required=False)
        _check_tag(key, value)
        if key == ARTIFACT_LOCATION:
            raise invalid(f"The tag {key} is set by the server and cannot change")
        self._update(workspace, cv.text(req, "trace_id"), lambda info: info["tags"].__setitem__(key, value))
        return {}

    def delete_tag(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        trace_id, key = cv.text(req, "trace_id"), cv.text(req, "key")

        def drop(info: dict[str, Any]) -> None:
            if key not in info["tags"]:
                raise missing(f"No trace tag with key '{key}' for trace with ID '{trace_id}'")
            del info["tags"][key]
        self._update(workspace, trace_id, drop)
        return {}

    def _update(self, workspace: str, trace_id: str, change: Any) -> None:
        try:
            self.store.update_info(workspace, trace_id, change)
        except NotFound:
            raise missing(f"Trace with ID {trace_id} not found.") from None

    def delete(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        exp = self.runs.experiments.resolve(workspace, cv.text(req, "experiment_id"))
        max_timestamp, max_traces = cv.integer(req, "max_timestamp_millis"), cv.integer(req, "max_traces")
        trace_ids = cv.strings(req, "request_ids") or cv.strings(req, "trace_ids")
        if max_timestamp is None and not trace_ids:
            raise invalid("Either `max_timestamp_millis` or `trace_ids` must be specified.")
        if max_timestamp is not None and trace_ids:
            raise invalid("Only one of `max_timestamp_millis` and `trace_ids` can be specified.")
        if trace_ids and max_traces is not None:
            raise invalid("`max_traces` can't be specified if `trace_ids` is specified.")
        if max_traces is not None and max_traces <= 0:
            raise invalid(f"`max_traces` must be a positive integer, received {max_traces}.")
        count = self.store.delete(workspace, int(exp.id), trace_ids=trace_ids or None, max_timestamp=max_timestamp,
                                  max_traces=max_traces)
        return {"traces_deleted": count}

    def search(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        exp_ids: list[str] = []
        for loc in cv.objects(req, "locations"):
            found = (loc.get("mlflow_experiment") or {}).get("experiment_id")
            if loc.get("type") not in (None, "MLFLOW_EXPERIMENT") or not isinstance(found, str):
                raise invalid(f"Unsupported trace location {loc!r}: only MLflow experiments are served here")
            exp_ids.append(found)
        exp_ids += cv.strings(req, "experiment_ids")  # the v2 request's field
        if not exp_ids:
            raise invalid("search_traces needs the experiments to search (locations)")
        limit = cv.integer(req, "max_results", default=100) or 0
        if not 1 <= limit <= MAX_PAGE:
            raise invalid(f"Invalid value {limit} for parameter 'max_results': between 1 and {MAX_PAGE}")
        where = filters.parse_filter(cv.text(req, "filter", required=False), TRACES)
        order = filters.parse_order_by(cv.strings(req, "order_by"), TRACES)
        numbers: dict[int, str] = {}
        for e in exp_ids:
            if e == cv.DEFAULT_EXPERIMENT_ID and not self.runs.experiments.has_default(workspace):
                continue  # nothing logged there yet: no traces, and a read creates nothing
            exp = self.runs.experiments.resolve(workspace, e)
            numbers[int(exp.id)] = cv.experiment_id(exp)
        found = [r for r in self.store.of_experiments(workspace, numbers)
                 if filters.matches(where, functools.partial(_field, r))]
        for clause in reversed(order):  # newest first unless ordered otherwise; a missing key sorts last
            present = [r for r in found if _field(r, clause.entity, clause.key) is not None]
            absent = [r for r in found if _field(r, clause.entity, clause.key) is None]
            present.sort(key=lambda r, c=clause: _field(r, c.entity, c.key), reverse=not clause.ascending)  # type: ignore
            found = present + absent
        offset = decode_token(cv.text(req, "page_token", required=False))
        answer: dict[str, Any] = {"traces": [self.info_json(workspace, r, numbers)
                                             for r in found[offset:offset + limit]]}
        if offset + limit < len(found):
            answer["next_page_token"] = encode_token(offset + limit)
        return answer

    # -- the spans, through the artifact proxy --------------------------------------------------------
    def artifacts_put(self, workspace: str, trace_id: str, rel: str, data: bytes) -> None:
        if rel != DATA_FILE:
            raise invalid(f"Trace artifact {rel!r} is not supported here: only the spans ({DATA_FILE}); span "
                          "attachments are not served")
        if len(data) > MAX_DATA:
            raise invalid(f"The spans of trace {trace_id} are {len(data)} bytes; this server keeps at most {MAX_DATA}")
        try:
            json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise invalid(f"The spans of trace {trace_id} are not JSON") from None
        try:
            self.store.set_data(workspace, trace_id, data.decode())
        except NotFound:
            raise missing(f"Trace with ID {trace_id} not found.") from None

    def artifacts_get(self, workspace: str, trace_id: str, rel: str) -> bytes:
        try:
            data = self.store.data(workspace, trace_id) if rel == DATA_FILE else None
        except NotFound:
            raise missing(f"Trace with ID {trace_id} not found.") from None
        if data is None:
            raise missing(f"Artifact {rel!r} not found for trace {trace_id}")
        return data.encode()

    def artifacts_list(self, workspace: str, trace_id: str) -> dict[str, Any]:
        try:
            data = self.store.data(workspace, trace_id)
        except NotFound:
            raise missing(f"Trace with ID {trace_id} not found.") from None
        return {"files": [] if data is None else [{"path": DATA_FILE, "is_dir": False,
                                                    "file_size": len(data.encode())}]}


def _field(rec: TraceRecord, entity: str, key: str) -> str | float | None:
    info = rec.info
    if entity == "tag":
        found = info.get("tags", {}).get(key)
        return found if key != ARTIFACT_LOCATION else artifact_location(rec.trace_id)
    if entity == "param":
        value: str | None = info.get("trace_metadata", {}).get(key)
        return value
    attrs: dict[str, str | float | None] = {
        "trace_id": rec.trace_id, "request_id": rec.trace_id, "state": rec.state,
        "name": info.get("tags", {}).get(TRACE_NAME), "run_id": info.get("trace_metadata", {}).get(SOURCE_RUN),
        "client_request_id": info.get("client_request_id"), "timestamp_ms": float(rec.request_time),
        "execution_time_ms": None if rec.execution_duration is None else float(rec.execution_duration),
        "end_time_ms": None if rec.execution_duration is None else float(rec.request_time + rec.execution_duration),
    }
    return attrs.get(key)


__all__ = ["DATA_FILE", "Traces", "artifact_location"]
