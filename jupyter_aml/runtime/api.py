"""The one Python client of the REST API: every path, query and payload shape lives here and in its bases
(api_transport.py, api_pipelines.py).

``Api`` wraps a ``ServiceClient`` (the transport) with one method per route. Paths are built only by
``build_path`` from the generated templates of ``api_types`` (mypy rejects a template the service does
not serve) and bodies and answers are the generated TypedDicts, so the SDK, the agent, the faces and
the test fake all speak the contract the server publishes. Stdlib only: it runs inside runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO, Any, cast

from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api_pipelines import PipelineCalls
from jupyter_aml.runtime.api_transport import build_path, match_path
from jupyter_aml.runtime.api_transport import query as _query

__all__ = ["Api", "build_path", "match_path"]


class Api(PipelineCalls):
    """Typed calls on ``http`` (a ``ServiceClient`` rooted at ``.../aml/api/v1``); the transport is
    api_transport.Transport, the pipeline routes' calls are api_pipelines.PipelineCalls."""

    # -- service ------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._get("/health"))

    def openapi(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._get("/openapi.json"))

    def events_path(self) -> str:
        """The push channel (server-sent events); read it with ``runtime.sse.EventStream``."""
        return build_path("/events")

    def collect_garbage(self, body: T.GcRequest) -> T.GcReport:
        return cast(T.GcReport, self._post("/gc", body))

    # -- workspaces ---------------------------------------------------------------------------------
    def list_workspaces(self) -> T.WorkspaceList:
        return cast(T.WorkspaceList, self._get("/workspaces"))

    def create_workspace(self, body: T.WorkspaceCreate) -> T.Workspace:
        return cast(T.Workspace, self._post("/workspaces", body))

    def get_workspace(self, ws: str) -> T.Workspace:
        return cast(T.Workspace, self._get("/workspaces/{workspace}", workspace=ws))

    def update_workspace(self, ws: str, body: T.WorkspaceUpdate) -> T.Workspace:
        return cast(T.Workspace, self._patch("/workspaces/{workspace}", body, workspace=ws))

    def list_experiments(self, ws: str, *, view_type: str | None = None, name: str | None = None,
                         tag: Sequence[str] | None = None) -> T.ExperimentList:
        return cast(T.ExperimentList, self._get("/workspaces/{workspace}/experiments",
                                                _query(view_type=view_type, name=name, tag=tag), workspace=ws))

    def get_experiment(self, ws: str, name: str) -> T.Experiment:
        return cast(T.Experiment, self._get("/workspaces/{workspace}/experiments/{name}", workspace=ws, name=name))

    def ensure_experiment(self, ws: str, name: str, body: T.ExperimentUpdate | None = None) -> T.Experiment:
        return cast(T.Experiment, self._put("/workspaces/{workspace}/experiments/{name}", body or {}, workspace=ws,
                                            name=name))

    def update_experiment(self, ws: str, name: str, body: T.ExperimentUpdate) -> T.Experiment:
        return cast(T.Experiment, self._patch("/workspaces/{workspace}/experiments/{name}", body, workspace=ws,
                                              name=name))

    def archive_experiment(self, ws: str, name: str) -> T.Experiment:
        return cast(T.Experiment, self._post("/workspaces/{workspace}/experiments/{name}/archive", None,
                                             workspace=ws, name=name))

    def reactivate_experiment(self, ws: str, name: str, body: T.ExperimentReactivate) -> T.Experiment:
        return cast(T.Experiment, self._post("/workspaces/{workspace}/experiments/{name}/reactivate", body,
                                             workspace=ws, name=name))

    def list_computes(self, ws: str) -> T.ComputeList:
        return cast(T.ComputeList, self._get("/workspaces/{workspace}/computes", workspace=ws))

    def create_compute(self, ws: str, body: T.ComputeCreate) -> T.Compute:
        return cast(T.Compute, self._post("/workspaces/{workspace}/computes", body, workspace=ws))

    def get_compute(self, ws: str, name: str) -> T.Compute:
        return cast(T.Compute, self._get("/workspaces/{workspace}/computes/{name}", workspace=ws, name=name))

    def update_compute(self, ws: str, name: str, body: T.ComputeUpdate) -> T.Compute:
        return cast(T.Compute, self._patch("/workspaces/{workspace}/computes/{name}", body, workspace=ws, name=name))

    def delete_compute(self, ws: str, name: str, *, force: bool = False) -> None:
        self._delete("/workspaces/{workspace}/computes/{name}", _query(force="true" if force else None),
                     workspace=ws, name=name)

    def start_compute(self, ws: str, name: str) -> T.Compute:
        return cast(T.Compute, self._post("/workspaces/{workspace}/computes/{name}/start", workspace=ws, name=name))

    def stop_compute(self, ws: str, name: str) -> T.Compute:
        return cast(T.Compute, self._post("/workspaces/{workspace}/computes/{name}/stop", workspace=ws, name=name))

    def restart_compute(self, ws: str, name: str) -> T.Compute:
        return cast(T.Compute, self._post("/workspaces/{workspace}/computes/{name}/restart", workspace=ws,
                                          name=name))

    def vm_sizes(self, ws: str) -> T.VmSizeList:
        return cast(T.VmSizeList, self._get("/workspaces/{workspace}/vm-sizes", workspace=ws))

    # -- sharing: members, roles, access, activity ----------------------------------------------------
    def list_members(self, ws: str) -> T.MemberList:
        return cast(T.MemberList, self._get("/workspaces/{workspace}/members", workspace=ws))

    def set_member(self, ws: str, user: str, body: T.MemberSet) -> T.Member:
        return cast(T.Member, self._put("/workspaces/{workspace}/members/{user}", body, workspace=ws, user=user))

    def remove_member(self, ws: str, user: str) -> None:
        self._delete("/workspaces/{workspace}/members/{user}", workspace=ws, user=user)

    def list_roles(self, ws: str) -> T.RoleList:
        return cast(T.RoleList, self._get("/workspaces/{workspace}/roles", workspace=ws))

    def set_role(self, ws: str, name: str, body: T.RoleSet) -> T.Role:
        return cast(T.Role, self._put("/workspaces/{workspace}/roles/{name}", body, workspace=ws, name=name))

    def delete_role(self, ws: str, name: str) -> None:
        self._delete("/workspaces/{workspace}/roles/{name}", workspace=ws, name=name)

    def get_access(self, ws: str) -> T.Access:
        return cast(T.Access, self._get("/workspaces/{workspace}/access", workspace=ws))

    def list_activity(self, ws: str, *, after: str | None = None, limit: int | None = None) -> T.ActivityPage:
        return cast(T.ActivityPage, self._get("/workspaces/{workspace}/activity", _query(after=after, limit=limit),
                                              workspace=ws))

    def list_actions(self) -> T.ActionList:
        return cast(T.ActionList, self._get("/actions"))

    # -- runs -----------------------------------------------------------------------------------------
    def list_runs(
        self,
        ws: str,
        *,
        experiment: str | None = None,
        status: Sequence[str] | None = None,
        tag: Sequence[str] | None = None,
        property: Sequence[str] | None = None,
        parent_id: str | None = None,
        root_only: bool | None = None,
        sort: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> T.RunPage:
        params = _query(experiment=experiment, status=status, tag=tag, property=property, parent_id=parent_id,
                        root_only=root_only, sort=sort, page_size=page_size, page_token=page_token)
        return cast(T.RunPage, self._get("/workspaces/{workspace}/runs", params, workspace=ws))

    def create_run(self, ws: str, body: T.RunCreate) -> T.Run:
        return cast(T.Run, self._post("/workspaces/{workspace}/runs", body, workspace=ws))

    def create_run_from_folder(self, ws: str, body: T.FolderRunCreate) -> T.Run:
        return cast(T.Run, self._post("/workspaces/{workspace}/runs/from-folder", body, workspace=ws))

    def get_run(self, ws: str, run_id: str) -> T.Run:
        return cast(T.Run, self._get("/workspaces/{workspace}/runs/{run_id}", workspace=ws, run_id=run_id))

    def update_run(self, ws: str, run_id: str, body: T.RunUpdate) -> T.Run:
        return cast(T.Run, self._patch("/workspaces/{workspace}/runs/{run_id}", body, workspace=ws, run_id=run_id))

    def list_children(self, ws: str, run_id: str, *, recursive: bool = False) -> T.RunList:
        return cast(T.RunList, self._get("/workspaces/{workspace}/runs/{run_id}/children",
                                         _query(recursive=recursive), workspace=ws, run_id=run_id))

    def create_children(self, ws: str, run_id: str, body: T.ChildCreate) -> T.RunList:
        return cast(T.RunList, self._post("/workspaces/{workspace}/runs/{run_id}/children", body,
                                          workspace=ws, run_id=run_id))

    def set_status(self, ws: str, run_id: str, body: T.StatusUpdate) -> T.Run:
        return cast(T.Run, self._post("/workspaces/{workspace}/runs/{run_id}/status", body,
                                      workspace=ws, run_id=run_id))

    def cancel_run(self, ws: str, run_id: str) -> T.Run:
        return cast(T.Run, self._post("/workspaces/{workspace}/runs/{run_id}/cancel", workspace=ws, run_id=run_id))

    def heartbeat(self, ws: str, run_id: str) -> T.Heartbeat:
        return cast(T.Heartbeat, self._post("/workspaces/{workspace}/runs/{run_id}/heartbeat", {},
                                            workspace=ws, run_id=run_id))

    # -- journal, metrics, logs -------------------------------------------------------------------------
    def post_journal(self, ws: str, run_id: str, encoded_batch: bytes) -> T.JournalAck:
        """A ``JournalBatch`` already encoded (the shipper splices raw journal lines into it)."""
        path = build_path("/workspaces/{workspace}/runs/{run_id}/journal", workspace=ws, run_id=run_id)
        return cast(T.JournalAck, self.http.post(path, data=encoded_batch, content_type="application/json"))

    def metric_summaries(self, ws: str, run_id: str, *, recursive: bool = False) -> T.MetricSummaryList:
        return cast(T.MetricSummaryList, self._get("/workspaces/{workspace}/runs/{run_id}/metrics",
                                                   _query(recursive=recursive), workspace=ws, run_id=run_id))

    def metric_values(self, ws: str, run_id: str, *, recursive: bool = False) -> T.MetricHistoryList:
        return cast(T.MetricHistoryList, self._get("/workspaces/{workspace}/runs/{run_id}/metric-values",
                                                   _query(recursive=recursive), workspace=ws, run_id=run_id))

    def metric_history(self, ws: str, run_id: str, name: str, *, max_points: int | None = None) -> T.MetricHistory:
        return cast(T.MetricHistory, self._get("/workspaces/{workspace}/runs/{run_id}/metrics/{name}",
                                               _query(max_points=max_points), workspace=ws, run_id=run_id,
                                               name=name))

    def get_logs(self, ws: str, run_id: str, *, after: int | None = None, limit: int | None = None,
                 stream: str | None = None) -> T.LogPage:
        return cast(T.LogPage, self._get("/workspaces/{workspace}/runs/{run_id}/logs",
                                         _query(after=after, limit=limit, stream=stream),
                                         workspace=ws, run_id=run_id))

    def log_files(self, ws: str, run_id: str) -> T.LogFileList:
        return cast(T.LogFileList, self._get("/workspaces/{workspace}/runs/{run_id}/logfiles", workspace=ws,
                                             run_id=run_id))

    def download_log_file(self, ws: str, run_id: str, name: str, target: str | os.PathLike[str] | IO[bytes]) -> int:
        """One of ``log_files``' names, as text so far (v1's ``get_details()['logFiles']`` entries)."""
        path = build_path("/workspaces/{workspace}/runs/{run_id}/logfiles/content", workspace=ws, run_id=run_id)
        return self.http.stream_download(path, target, params={"name": name})

    def post_logs(self, ws: str, run_id: str, body: T.LogBatch) -> T.ItemCount:
        return cast(T.ItemCount, self._post("/workspaces/{workspace}/runs/{run_id}/logs", body,
                                            workspace=ws, run_id=run_id))

    # -- run files --------------------------------------------------------------------------------------
    def list_run_files(self, ws: str, run_id: str, *, prefix: str | None = None) -> T.RunFileList:
        return cast(T.RunFileList, self._get("/workspaces/{workspace}/runs/{run_id}/files", _query(prefix=prefix),
                                             workspace=ws, run_id=run_id))

    def add_run_files(self, ws: str, run_id: str, body: T.RunFiles) -> T.RunFileList:
        return cast(T.RunFileList, self._post("/workspaces/{workspace}/runs/{run_id}/files", body,
                                              workspace=ws, run_id=run_id))

    def download_run_file(self, ws: str, run_id: str, name: str, target: str | os.PathLike[str] | IO[bytes]) -> int:
        path = build_path("/workspaces/{workspace}/runs/{run_id}/files/content", workspace=ws, run_id=run_id)
        return self.http.stream_download(path, target, params={"path": name})

    # -- datasets in runs (core/run_data.py) ---------------------------------------------------------------
    def run_inputs(self, ws: str, run_id: str) -> T.RunInputList:
        return cast(T.RunInputList, self._get("/workspaces/{workspace}/runs/{run_id}/inputs",
                                              workspace=ws, run_id=run_id))

    def download_run_input_file(self, ws: str, run_id: str, name: str, path: str,
                                target: str | os.PathLike[str] | IO[bytes]) -> int:
        url = build_path("/workspaces/{workspace}/runs/{run_id}/inputs/{name}/file", workspace=ws, run_id=run_id,
                         name=name)
        return self.http.stream_download(url, target, params={"path": path})

    def write_run_output(self, ws: str, run_id: str, name: str, body: T.RunOutputFiles) -> T.RunOutputWritten:
        return cast(T.RunOutputWritten, self._post("/workspaces/{workspace}/runs/{run_id}/outputs/{name}", body,
                                                   workspace=ws, run_id=run_id, name=name))

    def run_lineage(self, ws: str, run_id: str) -> T.LineageList:
        return cast(T.LineageList, self._get("/workspaces/{workspace}/runs/{run_id}/lineage",
                                             workspace=ws, run_id=run_id))

    def dataset_lineage(self, ws: str, name: str) -> T.LineageList:
        return cast(T.LineageList, self._get("/workspaces/{workspace}/datasets/{name}/lineage",
                                             workspace=ws, name=name))

    # -- blobs and snapshots -------------------------------------------------------------------------------
    def missing_blobs(self, ws: str, hashes: Sequence[str]) -> list[str]:
        body: T.HashList = {"hashes": list(hashes)}
        answer = cast(T.MissingBlobs, self._post("/workspaces/{workspace}/blobs/missing", body, workspace=ws))
        return list(answer["missing"])

    def put_blob(self, ws: str, sha256: str, *, data: bytes | None = None,
                 file: str | os.PathLike[str] | IO[bytes] | None = None, retry: int | None = None,
                 timeout: float | None = None) -> T.BlobInfo:
        path = build_path("/workspaces/{workspace}/blobs/{sha256}", workspace=ws, sha256=sha256)
        return cast(T.BlobInfo, self.http.request("PUT", path, data=data, file=file, retry=retry, timeout=timeout,
                                                  content_type="application/octet-stream"))

    def blob_path(self, ws: str, sha256: str) -> str:
        return build_path("/workspaces/{workspace}/blobs/{sha256}", workspace=ws, sha256=sha256)

    def download_blob(self, ws: str, sha256: str, target: str | os.PathLike[str] | IO[bytes]) -> int:
        return self.http.stream_download(self.blob_path(ws, sha256), target)

    def create_snapshot(self, ws: str, body: T.SnapshotCreate) -> T.Snapshot:
        return cast(T.Snapshot, self._post("/workspaces/{workspace}/snapshots", body, workspace=ws))

    def get_snapshot(self, ws: str, snapshot_id: str) -> T.Snapshot:
        return cast(T.Snapshot, self._get("/workspaces/{workspace}/snapshots/{snapshot_id}", workspace=ws,
                                          snapshot_id=snapshot_id))

    def download_snapshot_zip(self, ws: str, snapshot_id: str, target: str | os.PathLike[str] | IO[bytes],
                              *, retry: int | None = None) -> int:
        path = build_path("/workspaces/{workspace}/snapshots/{snapshot_id}/zip", workspace=ws,
                          snapshot_id=snapshot_id)
        return self.http.stream_download(path, target, retry=retry)

    # -- models ---------------------------------------------------------------------------------------
    def list_models(self, ws: str, *, name: str | None = None, tag: Sequence[str] | None = None,
                    property: Sequence[str] | None = None, run_id: str | None = None,
                    latest: bool | None = None) -> T.ModelList:
        params = _query(name=name, tag=tag, property=property, run_id=run_id, latest=latest)
        return cast(T.ModelList, self._get("/workspaces/{workspace}/models", params, workspace=ws))

    def register_model(self, ws: str, body: T.ModelCreate) -> T.Model:
        return cast(T.Model, self._post("/workspaces/{workspace}/models", body, workspace=ws))

    def register_run_model(self, ws: str, run_id: str, body: T.RunModelCreate) -> T.Model:
        return cast(T.Model, self._post("/workspaces/{workspace}/runs/{run_id}/models", body, workspace=ws,
                                        run_id=run_id))

    def get_model(self, ws: str, name: str, version: int | None = None) -> T.Model:
        if version is None:
            return cast(T.Model, self._get("/workspaces/{workspace}/models/{name}", workspace=ws, name=name))
        return cast(T.Model, self._get("/workspaces/{workspace}/models/{name}/versions/{version}", workspace=ws,
                                       name=name, version=int(version)))

    def update_model(self, ws: str, name: str, version: int, body: T.ModelUpdate) -> T.Model:
        return cast(T.Model, self._patch("/workspaces/{workspace}/models/{name}/versions/{version}", body,
                                         workspace=ws, name=name, version=int(version)))

    def delete_model(self, ws: str, name: str, version: int) -> None:
        self._delete("/workspaces/{workspace}/models/{name}/versions/{version}", workspace=ws, name=name,
                     version=int(version))

    def model_files(self, ws: str, name: str, version: int) -> T.ModelFileList:
        return cast(T.ModelFileList, self._get("/workspaces/{workspace}/models/{name}/versions/{version}/files",
                                               workspace=ws, name=name, version=int(version)))

    # -- datastores --------------------------------------------------------------------------------------
    def list_datastores(self, ws: str) -> T.DatastoreList:
        return cast(T.DatastoreList, self._get("/workspaces/{workspace}/datastores", workspace=ws))

    def register_datastore(self, ws: str, body: T.DatastoreCreate) -> T.Datastore:
        return cast(T.Datastore, self._post("/workspaces/{workspace}/datastores", body, workspace=ws))

    def get_datastore(self, ws: str, name: str) -> T.Datastore:
        return cast(T.Datastore, self._get("/workspaces/{workspace}/datastores/{name}", workspace=ws, name=name))

    def delete_datastore(self, ws: str, name: str) -> None:
        self._delete("/workspaces/{workspace}/datastores/{name}", workspace=ws, name=name)

    def set_default_datastore(self, ws: str, name: str) -> T.Datastore:
        return cast(T.Datastore, self._post("/workspaces/{workspace}/datastores/{name}/default", workspace=ws,
                                            name=name))

    def datastore_location(self, ws: str, name: str) -> T.StorageLocation:
        """The fsspec location with credentials (``datastores/listsecrets``: a recorded secret read)."""
        return cast(T.StorageLocation, self._get("/workspaces/{workspace}/datastores/{name}/location",
                                                 workspace=ws, name=name))

    def datastore_files(self, ws: str, name: str, pattern: str = "") -> T.DatastoreFileList:
        return cast(T.DatastoreFileList, self._get("/workspaces/{workspace}/datastores/{name}/files",
                                                   _query(pattern=pattern), workspace=ws, name=name))

    def upload_datastore_file(self, ws: str, name: str, path: str, file: str | os.PathLike[str] | IO[bytes], *,
                              overwrite: bool = False) -> T.DatastoreUpload:
        target = build_path("/workspaces/{workspace}/datastores/{name}/file", workspace=ws, name=name)
        return cast(T.DatastoreUpload, self.http.request(
            "PUT", target, file=file, params={"path": path, "overwrite": "true" if overwrite else "false"},
            content_type="application/octet-stream"))

    def download_datastore_file(self, ws: str, name: str, path: str,
                                target: str | os.PathLike[str] | IO[bytes]) -> int:
        source = build_path("/workspaces/{workspace}/datastores/{name}/file", workspace=ws, name=name)
        return self.http.stream_download(source, target, params={"path": path})

    # -- datasets ----------------------------------------------------------------------------------------
    def register_dataset(self, ws: str, body: T.DatasetCreate) -> T.Dataset:
        return cast(T.Dataset, self._post("/workspaces/{workspace}/datasets", body, workspace=ws))

    def list_datasets(self, ws: str) -> T.DatasetList:
        return cast(T.DatasetList, self._get("/workspaces/{workspace}/datasets", workspace=ws))

    def get_dataset(self, ws: str, name: str, version: int | str = "latest") -> T.Dataset:
        return cast(T.Dataset, self._get("/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}",
                                         workspace=ws, name=name, dataset_version=version))

    def get_dataset_by_id(self, ws: str, dataset_id: str) -> T.Dataset:
        return cast(T.Dataset, self._get("/workspaces/{workspace}/dataset-ids/{dataset_id}", workspace=ws,
                                         dataset_id=dataset_id))

    def update_dataset(self, ws: str, name: str, version: int | str, body: T.DatasetUpdate) -> T.Dataset:
        return cast(T.Dataset, self._patch("/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}",
                                           body, workspace=ws, name=name, dataset_version=version))

    def dataset_versions(self, ws: str, name: str) -> T.DatasetList:
        return cast(T.DatasetList, self._get("/workspaces/{workspace}/datasets/{name}/versions", workspace=ws,
                                             name=name))

    def dataset_profile(self, ws: str, name: str, version: int | str = "latest") -> T.DatasetProfile:
        return cast(T.DatasetProfile, self._get(
            "/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}/profile", workspace=ws, name=name,
            dataset_version=version))

    def dataset_preview(self, ws: str, name: str, version: int | str = "latest", *, rows: int | None = None
                        ) -> T.DatasetPreview:
        return cast(T.DatasetPreview, self._get(
            "/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}/preview", _query(rows=rows),
            workspace=ws, name=name, dataset_version=version))

    def delete_dataset(self, ws: str, name: str) -> T.DatasetDeleted:
        return cast(T.DatasetDeleted, self._delete("/workspaces/{workspace}/datasets/{name}", workspace=ws,
                                                   name=name))

    # -- environments ------------------------------------------------------------------------------------
    def list_environments(self, ws: str, *, name: str | None = None, latest: bool | None = None
                          ) -> T.EnvironmentList:
        return cast(T.EnvironmentList, self._get("/workspaces/{workspace}/environments",
                                                 _query(name=name, latest=latest), workspace=ws))

    def register_environment(self, ws: str, body: T.EnvironmentDefinition) -> T.RegisteredEnvironment:
        return cast(T.RegisteredEnvironment, self._post("/workspaces/{workspace}/environments", body, workspace=ws))

    def get_environment(self, ws: str, name: str, version: int | str | None = None) -> T.RegisteredEnvironment:
        if version is None:
            return cast(T.RegisteredEnvironment, self._get("/workspaces/{workspace}/environments/{name}",
                                                           workspace=ws, name=name))
        return cast(T.RegisteredEnvironment, self._get(
            "/workspaces/{workspace}/environments/{name}/versions/{version}", workspace=ws, name=name,
            version=version))

    def build_environment(self, ws: str, name: str, version: int | str, *, timeout: float = 3600
                          ) -> T.EnvironmentBuild:
        path = build_path("/workspaces/{workspace}/environments/{name}/versions/{version}/build", workspace=ws,
                          name=name, version=version)
        return cast(T.EnvironmentBuild, self.http.request("POST", path, json={}, timeout=timeout))

    # -- web services ------------------------------------------------------------------------------------
    def list_endpoints(self, ws: str) -> T.WebserviceList:
        return cast(T.WebserviceList, self._get("/workspaces/{workspace}/endpoints", workspace=ws))

    def create_endpoint(self, ws: str, body: T.DeploymentCreate) -> T.Webservice:
        return cast(T.Webservice, self._post("/workspaces/{workspace}/endpoints", body, workspace=ws))

    def get_endpoint(self, ws: str, name: str) -> T.Webservice:
        return cast(T.Webservice, self._get("/workspaces/{workspace}/endpoints/{name}", workspace=ws, name=name))

    def update_endpoint(self, ws: str, name: str, body: T.DeploymentUpdate) -> T.Webservice:
        return cast(T.Webservice, self._patch("/workspaces/{workspace}/endpoints/{name}", body, workspace=ws,
                                              name=name))

    def delete_endpoint(self, ws: str, name: str) -> None:
        self._delete("/workspaces/{workspace}/endpoints/{name}", workspace=ws, name=name)

    def endpoint_logs(self, ws: str, name: str, *, lines: int | None = None) -> T.ServiceLogs:
        return cast(T.ServiceLogs, self._get("/workspaces/{workspace}/endpoints/{name}/logs", _query(lines=lines),
                                             workspace=ws, name=name))

    def endpoint_keys(self, ws: str, name: str) -> T.ServiceKeys:
        return cast(T.ServiceKeys, self._get("/workspaces/{workspace}/endpoints/{name}/keys", workspace=ws,
                                             name=name))

    def regenerate_endpoint_key(self, ws: str, name: str, body: T.RegenerateKey) -> T.ServiceKeys:
        return cast(T.ServiceKeys, self._post("/workspaces/{workspace}/endpoints/{name}/keys/regenerate", body,
                                              workspace=ws, name=name))

    def endpoint_telemetry(self, ws: str, name: str, *, minutes: int | None = None) -> T.Telemetry:
        return cast(T.Telemetry, self._get("/workspaces/{workspace}/endpoints/{name}/telemetry",
                                           _query(minutes=minutes), workspace=ws, name=name))

    def endpoint_swagger(self, ws: str, name: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._get("/workspaces/{workspace}/endpoints/{name}/swagger", workspace=ws,
                                              name=name))

    def test_endpoint(self, ws: str, name: str, body: T.EndpointTestRequest) -> T.EndpointTestResult:
        return cast(T.EndpointTestResult, self._post("/workspaces/{workspace}/endpoints/{name}/test", body,
                                                     workspace=ws, name=name))

    def list_images(self, ws: str) -> T.ImageList:
        return cast(T.ImageList, self._get("/workspaces/{workspace}/images", workspace=ws))

    # -- the key vault (values only in the answers of the two reads) -------------------------------------
    def list_secrets(self, ws: str) -> T.SecretList:
        return cast(T.SecretList, self._get("/workspaces/{workspace}/secrets", workspace=ws))

    def set_secret(self, ws: str, name: str, body: T.SecretSet) -> T.SecretNameList:
        return cast(T.SecretNameList, self._put("/workspaces/{workspace}/secrets/{name}", body, workspace=ws,
                                                name=name))

    def set_secrets(self, ws: str, body: T.SecretsSet) -> T.SecretNameList:
        return cast(T.SecretNameList, self._post("/workspaces/{workspace}/secrets", body, workspace=ws))

    def delete_secret(self, ws: str, name: str) -> T.SecretNameList:
        return cast(T.SecretNameList, self._delete("/workspaces/{workspace}/secrets/{name}", workspace=ws,
                                                   name=name))

    def secret_values(self, ws: str, body: T.SecretNames) -> T.SecretValues:
        return cast(T.SecretValues, self._post("/workspaces/{workspace}/secret-values", body, workspace=ws))

    def run_secret_values(self, ws: str, run_id: str, body: T.SecretNames) -> T.SecretValues:
        """A run's own read (``run.get_secret``): the one the run token may make."""
        return cast(T.SecretValues, self._post("/workspaces/{workspace}/runs/{run_id}/secret-values", body,
                                               workspace=ws, run_id=run_id))


def templates(document: Mapping[str, Any] | None = None) -> list[str]:
    """Every path template of the API (for ``match_path``)."""
    if document is not None:
        return sorted(document["paths"])
    return sorted({path for _, path in T.QUERY_PARAMETERS})
