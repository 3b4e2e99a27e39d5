"""``Model``: the model registry with Azure ML v1's names (``Model.register``, ``Model(ws, name)``, ...).

A model is a logical container of one or more files, stored content-addressed in the workspace's blob
store: registering an unchanged file uploads nothing, and a run's outputs are registered by reference.
"""

from __future__ import annotations

import builtins
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.errors import WebserviceException as WebserviceException  # v1's name, raised from here too
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.submit import sha256_file

if TYPE_CHECKING:
    from jupyter_aml.sdk.profile import ModelProfile
    from jupyter_aml.sdk.run import Run
    from jupyter_aml.sdk.webservice import InferenceConfig, Webservice
    from jupyter_aml.sdk.workspace import Workspace

MODEL_DIR_VAR = "AZUREML_MODEL_DIR"
MODELS_VAR = "AML_MODELS"  # set in scoring replicas: {"name": {"version": 2, "path": "model.pkl", "dir": "..."}}


class ModelNotFound(WebserviceException, NotFound):
    code = "NotFound"


def _fetch(workspace: Workspace, name: str, version: int | None) -> dict[str, Any]:
    """One model version's record; a missing one is v1's ``ModelNotFoundException`` (a ``WebserviceException``
    that v1 driver code catches), still a ``NotFound``."""
    try:
        if version is None:
            return _record(workspace._api.get_model(workspace.name, name))
        return _record(workspace._api.get_model(workspace.name, name, version))
    except ModelNotFound:
        raise
    except NotFound as exc:
        raise ModelNotFound(exc.message, hint=exc.hint) from None


def _record(model: T.Model) -> dict[str, Any]:
    return cast(dict[str, Any], model)


def _tag_filters(tags: Any) -> list[str]:
    """Azure accepts ``["key", ["key", "value"]]``; a dict ``{key: value}`` works too."""
    if not tags:
        return []
    if isinstance(tags, dict):
        return [f"{k}={v}" for k, v in tags.items()]
    out = []
    for item in tags:
        if isinstance(item, (list, tuple)):
            out.append(f"{item[0]}={item[1]}" if len(item) > 1 else str(item[0]))
        else:
            out.append(str(item))
    return out


def upload_files(workspace: Workspace, files: list[tuple[str, Path]]) -> list[dict[str, Any]]:
    """Hash local files, upload the blobs the workspace lacks; return ``[{path, sha256, size}]``."""
    entries: list[dict[str, Any]] = [
        {"path": rel, "sha256": sha256_file(p), "size": p.stat().st_size, "_local": p} for rel, p in files
    ]
    api = workspace._api
    hashes = sorted({e["sha256"] for e in entries})
    missing = set(api.missing_blobs(workspace.name, hashes)) if hashes else set()
    for entry in entries:
        if entry["sha256"] in missing:
            api.put_blob(workspace.name, entry["sha256"], file=str(entry["_local"]))
            missing.discard(entry["sha256"])
    return [{k: v for k, v in e.items() if k != "_local"} for e in entries]


class Model:
    """A registered model version. ``Model(ws, "digits")`` is the latest version; ``version=`` picks one."""

    class Framework:
        CUSTOM = "Custom"
        MULTI = "Multi"
        ONNX = "Onnx"
        PYTORCH = "PyTorch"
        SCIKITLEARN = "ScikitLearn"
        TENSORFLOW = "TensorFlow"
        XGBOOST = "XGBoost"
        LIGHTGBM = "LightGBM"

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        id: str | None = None,
        tags: Any = None,
        properties: Any = None,
        version: int | None = None,
        run_id: str | None = None,
        *,
        _details: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        self.workspace = workspace
        if _details is None:
            if id:
                name, _sep, ver = id.rpartition(":") if ":" in id else (id, "", "")
                version = int(ver) if ver else version
            if not name:
                raise InvalidInput("Model() needs a name or an id",
                                   hint="Model(ws, 'digits') or Model(ws, id='digits:2')")
            if version is not None:
                _details = _fetch(workspace, name, int(version))
            elif tags or properties or run_id:
                found = Model.list(workspace, name=name, tags=tags, properties=properties, run_id=run_id)
                if not found:
                    raise ModelNotFound(f"no version of model {name!r} matches the given tags/properties/run_id")
                _details = found[0]._details
            else:
                _details = _fetch(workspace, name, None)
        self._details: dict[str, Any] = dict(_details or {})

    # -- attributes ------------------------------------------------------------------------------------------
    name = property(lambda self: str(self._details["name"]))
    version = property(lambda self: int(self._details["version"]))
    id = property(lambda self: str(self._details["id"]))
    description = property(lambda self: self._details.get("description") or "")
    created_time = property(lambda self: self._details.get("created_at"))
    created_by = property(lambda self: self._details.get("created_by"))
    run_id = property(lambda self: self._details.get("run_id"))
    experiment_name = property(lambda self: self._details.get("experiment"))
    model_framework = property(lambda self: self._details.get("framework"))
    model_framework_version = property(lambda self: self._details.get("framework_version"))
    sample_input = property(lambda self: self._details.get("sample_input"))
    path = property(lambda self: str(self._details.get("path") or ""))
    deployments = property(lambda self: list(self._details.get("deployments") or []))

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._details.get("tags") or {})

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._details.get("properties") or {})

    @property
    def url(self) -> str:
        return f"aml://workspaces/{self.workspace.name}/models/{self.name}/versions/{self.version}"

    @property
    def run(self) -> Run | None:
        return self.workspace.get_run(self.run_id) if self.run_id else None

    def _vpath(self, *parts: str) -> str:
        """A REST path, for older tests that call REST directly; product code uses ``get_files``."""
        from jupyter_aml.runtime.api import build_path

        base = build_path("/workspaces/{workspace}/models/{name}/versions/{version}", workspace=self.workspace.name,
                          name=self.name, version=self.version)
        return "/".join([base.lstrip("/"), *parts])

    def get_files(self) -> builtins.list[T.ModelFile]:
        """The version's files: path, sha256 and size of each."""
        return builtins.list(self.workspace._api.model_files(self.workspace.name, self.name, self.version)["items"])

    def get_file_names(self) -> builtins.list[str]:
        return [f["path"] for f in self.get_files()]

    # -- registering -----------------------------------------------------------------------------------------
    @classmethod
    def register(
        cls,
        workspace: Workspace,
        model_path: str | os.PathLike[str],
        model_name: str,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        description: str | None = None,
        datasets: Any = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        child_paths: list[str] | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
        sample_input: Any = None,
        **_: Any,
    ) -> Model:
        """Register a local file or folder as the next version of ``model_name``."""
        source = Path(model_path)
        if not source.exists():
            raise InvalidInput(f"model_path {str(source)!r} does not exist", hint="pass a model file or folder")
        base = source.resolve().name
        if source.is_file():
            files = [(base, source)]
        else:
            picked = [source / c for c in child_paths] if child_paths else sorted(source.rglob("*"))
            files = [(f"{base}/{p.relative_to(source).as_posix()}", p) for p in picked if p.is_file()]
            if not files:
                raise InvalidInput(f"model folder {str(source)!r} holds no files")
        entries = upload_files(workspace, files)
        body = {
            "name": model_name,
            "files": entries,
            "path": base,
            "description": description or "",
            "tags": {k: str(v) for k, v in (tags or {}).items()},
            "properties": {k: str(v) for k, v in (properties or {}).items()},
            "framework": model_framework,
            "framework_version": model_framework_version,
            "sample_input": sample_input,
        }
        return cls(workspace, _details=_record(workspace._api.register_model(workspace.name,
                                                                              cast(T.ModelCreate, body))))

    @classmethod
    def _register_from_run(cls, run: Run, model_name: str, model_path: str, **kwargs: Any) -> Model:
        workspace = run.experiment.workspace
        body: T.RunModelCreate = {
            "name": model_name,
            "run_path": model_path,
            "description": kwargs.get("description") or "",
            "tags": {k: str(v) for k, v in (kwargs.get("tags") or {}).items()},
            "properties": {k: str(v) for k, v in (kwargs.get("properties") or {}).items()},
            "framework": kwargs.get("model_framework"),
            "framework_version": kwargs.get("model_framework_version"),
            "sample_input": kwargs.get("sample_input"),
        }
        try:
            details = _record(workspace._api.register_run_model(workspace.name, run.id, body))
        except NotFound:
            # Inside its own script the run's outputs are uploaded only when the script ends: upload the
            # local file or folder now, as run.upload_file would, and register that.
            local = Path(model_path)
            if run is not type(run)._context or not local.exists():
                raise
            if local.is_dir():
                run.upload_folder(model_path.rstrip("/"), local)
            else:
                run.upload_file(model_path, local)
            details = _record(workspace._api.register_run_model(workspace.name, run.id, body))
        return cls(workspace, _details=details)

    # -- finding ------------------------------------------------------------------------------------------
    @staticmethod
    def list(
        workspace: Workspace,
        name: str | None = None,
        tags: Any = None,
        properties: Any = None,
        run_id: str | None = None,
        latest: bool = False,
        **_: Any,
    ) -> builtins.list[Model]:
        items = workspace._api.list_models(workspace.name, name=name or None, tag=_tag_filters(tags),
                                           property=_tag_filters(properties), run_id=run_id or None,
                                           latest=True if latest else None)["items"]
        return [Model(workspace, _details=_record(item)) for item in items]

    def get_details(self) -> dict[str, Any]:
        return dict(self._details)

    def get_sas_urls(self) -> dict[str, str]:
        """Each file's blob route (this service needs no SAS tokens)."""
        api = self.workspace._api
        return {f["path"]: api.blob_path(self.workspace.name, f["sha256"]).lstrip("/") for f in self.get_files()}

    def serialize(self) -> dict[str, Any]:
        return {"workspace": self.workspace.name, **self._details}

    @classmethod
    def deserialize(cls, workspace: Workspace, model_payload: dict[str, Any]) -> Model:
        return cls(workspace, _details={k: v for k, v in model_payload.items() if k != "workspace"})

    # -- files ----------------------------------------------------------------------------------------------
    def download(self, target_dir: str | os.PathLike[str] = ".", exist_ok: bool = False,
                 exists_ok: bool | None = None) -> str:
        """Download the model's files into ``target_dir``; return the path of the model file or folder."""
        if exists_ok is not None:
            exist_ok = exists_ok
        target = Path(target_dir)
        files = self.get_files()
        root = target / self.path if self.path else target
        if root.exists() and self.path and not exist_ok:
            raise WebserviceException(f"{root} already exists", hint="pass exist_ok=True to overwrite it")
        for f in files:
            dest = target.joinpath(*f["path"].split("/"))
            if not dest.resolve().is_relative_to(target.resolve()):
                raise InvalidInput(f"model file path {f['path']!r} escapes the target folder")
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".aml-")
            os.close(fd)
            try:
                self.workspace._api.download_blob(self.workspace.name, f["sha256"], Path(tmp))
                if sha256_file(Path(tmp)) != f["sha256"]:
                    raise WebserviceException(f"download of {f['path']!r} is corrupted", hint="retry")
                os.replace(tmp, dest)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        return str(root)

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None, _workspace: Workspace | None = None) -> str:
        """Inside a web service: the deployed model's file or folder. Elsewhere, with ``_workspace``: a local
        copy under ``./azureml-models/NAME/VERSION``."""
        deployed = os.environ.get(MODELS_VAR)
        if deployed:
            models = json.loads(deployed)
            info = models.get(model_name)
            if info is None or (version is not None and int(info["version"]) != int(version)):
                raise ModelNotFound(
                    f"model {model_name!r}{f' version {version}' if version else ''} is not deployed in this service",
                    hint="deployed here: " + ", ".join(f"{n}:{i['version']}" for n, i in models.items()),
                )
            return str(Path(info["dir"]) / info["path"]) if info["path"] else str(info["dir"])
        if _workspace is None:
            local = Path("azureml-models") / model_name
            if local.is_dir():
                versions = sorted((p for p in local.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
                chosen = local / str(version) if version is not None else (versions[-1] if versions else None)
                if chosen is not None and chosen.is_dir():
                    entries = [p for p in chosen.iterdir()]
                    return str(entries[0] if len(entries) == 1 else chosen)
            raise ModelNotFound(
                f"model {model_name!r} is not available here",
                hint="inside a web service it is; elsewhere pass _workspace=ws to download it",
            )
        model = Model(_workspace, model_name, version=version)
        folder = Path("azureml-models") / model.name / str(model.version)
        return model.download(folder, exist_ok=True)

    # -- changing -------------------------------------------------------------------------------------------
    def _patch(self, body: dict[str, Any]) -> None:
        self._details = _record(self.workspace._api.update_model(self.workspace.name, self.name, self.version,
                                                                  cast(T.ModelUpdate, body)))

    def update(self, tags: dict[str, Any] | None = None, description: str | None = None,
               properties: dict[str, Any] | None = None, **_: Any) -> None:
        """Replace the tags (when given), add properties, set the description."""
        body: dict[str, Any] = {}
        if tags is not None:
            body["tags"] = {k: str(v) for k, v in tags.items()}
            body["remove_tags"] = [k for k in self.tags if k not in tags]
        if properties is not None:
            body["properties"] = {k: str(v) for k, v in properties.items()}
        if description is not None:
            body["description"] = description
        self._patch(body)

    def add_tags(self, tags: dict[str, Any]) -> None:
        self._patch({"tags": {k: str(v) for k, v in tags.items()}})

    def remove_tags(self, tags: builtins.list[str]) -> None:
        self._patch({"remove_tags": list(tags)})

    def add_properties(self, properties: dict[str, Any]) -> None:
        self._patch({"properties": {k: str(v) for k, v in properties.items()}})

    def update_tags_properties(self, add_tags: dict[str, Any] | None = None,
                               remove_tags: builtins.list[str] | None = None,
                               add_properties: dict[str, Any] | None = None) -> None:
        self._patch({"tags": {k: str(v) for k, v in (add_tags or {}).items()}, "remove_tags": list(remove_tags or []),
                     "properties": {k: str(v) for k, v in (add_properties or {}).items()}})

    def delete(self) -> None:
        """Delete this version (refused while a web service uses it)."""
        self.workspace._api.delete_model(self.workspace.name, self.name, self.version)

    # -- deploying ------------------------------------------------------------------------------------------
    @staticmethod
    def deploy(
        workspace: Workspace,
        name: str,
        models: builtins.list[Model],
        inference_config: InferenceConfig | None = None,
        deployment_config: Any = None,
        deployment_target: Any = None,
        overwrite: bool = False,
        show_output: bool = False,
    ) -> Webservice:
        """Deploy ``models`` as the web service ``name``; returns at once (``wait_for_deployment()`` waits).
        ``deployment_target`` (v1's AKS cluster or attached target) is refused: services run on this machine."""
        from jupyter_aml.sdk.webservice import Webservice
        from jupyter_aml.sdk.webservice_config import refuse_deployment_target

        refuse_deployment_target(deployment_target)

        return Webservice._deploy(workspace, name, models, inference_config, deployment_config, overwrite=overwrite,
                                  show_output=show_output)

    @staticmethod
    def package(workspace: Workspace, models: builtins.list[Model], inference_config: Any = None,
                generate_dockerfile: bool = False, *args: Any, **kwargs: Any) -> Any:
        """v1 built a Docker image (or a Dockerfile) of models and scoring code here: not available."""
        raise WebserviceException(
            "Model.package is not supported here: scoring images are built when a Docker web service is deployed",
            hint="deploy with DockerWebservice.deploy_configuration() (or AciWebservice); the image is kept and "
                 "listed under GET /workspaces/{ws}/images, and reused for the same models, code and environment")

    @staticmethod
    def profile(workspace: Workspace, profile_name: str, models: builtins.list[Model],
                inference_config: InferenceConfig | None = None, input_dataset: Any = None,
                cpu: float | None = None, memory_in_gb: float | None = None, description: str | None = None,
                *, sample_requests: Any = None, requests: int = 200, concurrency: int = 2,
                max_seconds: float = 30.0, compute_type: str = "local") -> ModelProfile:
        """v1's model profiling: a bounded load test of a temporary replica, and the CPU and memory to give the
        service. ``input_dataset`` is v1's one-column tabular dataset of request bodies; ``sample_requests``
        (a list of bodies) is this workspace's addition. Returns a ``ModelProfile`` at once (the load runs in
        the background; ``wait_for_completion(True)`` waits); raises ``WebserviceException`` if the scoring
        script cannot serve. The temporary replica is always removed. See jupyter_aml/sdk/profile.py for how
        the numbers and the recommendation are made."""
        from jupyter_aml.sdk.profile import profile

        return profile(workspace, profile_name, models, inference_config, input_dataset, cpu, memory_in_gb,
                       description, sample_requests=sample_requests, requests=requests, concurrency=concurrency,
                       max_seconds=max_seconds, compute_type=compute_type)

    def __repr__(self) -> str:
        return f"Model(workspace={self.workspace.name!r}, name={self.name!r}, id={self.id!r}, version={self.version})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id and other.workspace == self.workspace

    def __hash__(self) -> int:
        return hash(self.id)

