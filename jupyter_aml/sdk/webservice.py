"""Web services with Azure ML v1's names: ``InferenceConfig``, ``Model.deploy``, ``Webservice``
(``wait_for_deployment``, ``run``, ``get_logs``, ``update``, ``delete``) and its kinds ``LocalWebservice``,
``DockerWebservice``, ``AciWebservice``, ``AksWebservice`` (their deployment configurations are in
``webservice_config``)."""

from __future__ import annotations

import builtins
import http.client
import json
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jupyter_aml.errors import InvalidInput, PayloadTooLarge, WebserviceException
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.model import Model
from jupyter_aml.sdk.webservice_config import (
    AUTOSCALE_SETTINGS,
    AciServiceDeploymentConfiguration,
    AksCompute,
    AksServiceDeploymentConfiguration,
    AutoScaler,
    DockerWebserviceDeploymentConfiguration,
    LocalWebserviceDeploymentConfiguration,
    aci_configuration,
    aks_configuration,
    check_scaling_update,
    scaling_from_config,
)
from jupyter_aml.sdk.webservice_nocode import no_code_inference_config

if TYPE_CHECKING:
    from jupyter_aml.runtime.api import Api
    from jupyter_aml.sdk.environment import Environment
    from jupyter_aml.sdk.workspace import Workspace


class InferenceConfig:
    """The scoring code (``entry_script`` inside ``source_directory``) and the ``environment`` it runs in."""

    def __init__(
        self,
        entry_script: str,
        runtime: str | None = None,
        conda_file: str | None = None,
        extra_docker_file_steps: str | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        enable_gpu: bool | None = None,
        description: str | None = None,
        base_image: str | None = None,
        base_image_registry: Any = None,
        cuda_version: str | None = None,
        environment: Environment | None = None,
    ) -> None:
        if runtime is not None and str(runtime).lower() != "python":
            raise InvalidInput(f"runtime {runtime!r} is not supported here",
                               hint="use runtime='python' or leave it unset")
        for name, value, hint in (
            ("extra_docker_file_steps", extra_docker_file_steps, "set env.docker.base_dockerfile on the environment"),
            ("enable_gpu", enable_gpu, "web service replicas run on CPUs here; leave it unset"),
            ("cuda_version", cuda_version, "web service replicas run on CPUs here; leave it unset"),
            ("base_image_registry", base_image_registry, "images are never pulled here: build the base image "
                                                         "into the Docker engine and name it in base_image"),
        ):
            if value:
                raise InvalidInput(f"InferenceConfig({name}=...) is not supported here", hint=hint)
        if source_directory is None:
            script = Path(entry_script)
            source_directory, entry_script = (script.parent if str(script.parent) else Path(".")), script.name
        self.entry_script = str(entry_script).replace("\\", "/")
        self.source_directory = str(source_directory)
        if conda_file:
            if environment is not None:
                raise InvalidInput("InferenceConfig takes an environment or a conda_file, not both",
                                   hint="put the conda dependencies in the environment")
            environment = _environment_from_conda_file(conda_file, self.source_directory)
        self.conda_file = conda_file
        self.environment = environment
        self.description = description
        self.base_image = base_image

    def _spec(self, workspace: Workspace) -> dict[str, Any]:
        from jupyter_aml.sdk.submit import upload_snapshot

        upload = upload_snapshot(workspace._api, workspace.name, self.source_directory,
                                 script=self.entry_script, progress=False, script_kind="scoring script",
                                 script_arg="entry_script")
        spec: dict[str, Any] = {"entry_script": self.entry_script, "snapshot_id": upload.snapshot_id}
        env = self.environment
        if env is not None and getattr(env, "_registered", None):
            spec["environment_ref"] = f"{env.name}:{env.version}"
        elif env is not None:
            definition = env._definition()
            if self.base_image and not definition.get("docker_base_image"):
                definition["docker_base_image"] = self.base_image
            spec["environment"] = definition
        elif self.base_image:
            spec["environment"] = {"docker_base_image": self.base_image}
        return spec

    def __repr__(self) -> str:
        return f"InferenceConfig(entry_script={self.entry_script!r}, source_directory={self.source_directory!r})"


def _environment_from_conda_file(conda_file: str | os.PathLike[str], source_directory: str) -> Environment:
    """v1's ``InferenceConfig(conda_file=)``: the file as given, else relative to ``source_directory``."""
    path = Path(conda_file)
    if not path.is_file() and (Path(source_directory) / path).is_file():
        path = Path(source_directory) / path
    if not path.is_file():
        raise InvalidInput(f"conda_file {str(conda_file)!r} does not exist",
                           hint="give its path, or a path relative to source_directory")
    from jupyter_aml.sdk.environment import environment_from_conda_file  # conda packages mapped to PyPI

    return environment_from_conda_file(path, name=f"inference-{path.stem}")


V1_COMPUTE_TYPES = {"aci": "docker", "aks": "docker"}  # v1's kinds -> the compute type their replicas run on here
RAISE_LIMIT = ("raise the limit with service.update(max_request_bytes=N) (at most 1 GiB), or deploy with "
               "deploy_configuration(max_request_bytes=N); or send fewer rows per request")


class ScoringRequestTooLarge(WebserviceException, PayloadTooLarge):
    """A scoring request over the service's ``max_request_bytes``: a ``WebserviceException`` (v1 code catches
    that) that is also a ``PayloadTooLarge``; the message has the size and the limit, the hint how to raise it."""

    code, status = "PayloadTooLarge", 413


class Webservice:
    """A deployed web service. ``Webservice(ws, "digits-svc")`` finds an existing one."""

    def __init__(self, workspace: Workspace, name: str, *, _details: dict[str, Any] | None = None) -> None:
        self.workspace = workspace
        self.name = name
        self._details = _details if _details is not None else self._get()
        self._key: str | None = None
        self._watching = (self._details.get("operation") or {}).get("revision") if _details is not None else None

    @property
    def _api(self) -> Api:
        return self.workspace._api

    def _get(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._api.get_endpoint(self.workspace.name, self.name))

    @classmethod
    def _deploy(cls, workspace: Workspace, name: str, models: builtins.list[Model],
                inference_config: InferenceConfig | None, deployment_config: Any, *, overwrite: bool = False,
                show_output: bool = False) -> Webservice:
        if not models:
            raise InvalidInput("deploying needs at least one model")
        config = deployment_config or LocalWebserviceDeploymentConfiguration()
        if not isinstance(config, LocalWebserviceDeploymentConfiguration):
            raise InvalidInput(f"deployment_config must come from a deploy_configuration(), not "
                               f"{type(config).__name__}", hint="LocalWebservice.deploy_configuration(port=0)")
        generated = inference_config is None
        if inference_config is None:  # v1's no-code deployment of a scikit-learn model
            inference_config = no_code_inference_config(models)
        try:
            inference = inference_config._spec(workspace)
        finally:
            if generated:
                shutil.rmtree(inference_config.source_directory, ignore_errors=True)
        body = {
            "name": name,
            "models": [m.id if isinstance(m, Model) else str(m) for m in models],
            "inference_config": inference,
            "deployment_config": config._spec(),
            "overwrite": overwrite,
            "description": config.description or inference_config.description or "",
            "tags": dict(config.tags or {}),
        }
        details = cast(dict[str, Any], workspace._api.create_endpoint(workspace.name, cast(T.DeploymentCreate, body)))
        service = cls(workspace, name, _details=details)
        for kind, value in (("Primary", config.primary_key), ("Secondary", config.secondary_key)):
            if value:
                service.regen_key(kind, set_key=value)
        if show_output:
            service.wait_for_deployment(show_output=True)
        return service

    @staticmethod
    def list(workspace: Workspace, compute_type: str | None = None, model_name: str | None = None,
             model_id: str | None = None, tags: Any = None, **_: Any) -> builtins.list[Webservice]:
        items = workspace._api.list_endpoints(workspace.name)["items"]
        out = []
        wanted = V1_COMPUTE_TYPES.get(compute_type.lower(), compute_type.lower()) if compute_type else None
        for item in items:
            if wanted and item["compute_type"].lower() != wanted:
                continue
            if model_name and not any(m.split(":")[0] == model_name for m in item["models"]):
                continue
            if model_id and model_id not in item["models"]:
                continue
            out.append(Webservice(workspace, item["name"], _details=cast(dict[str, Any], item)))
        return out

    # -- attributes ---------------------------------------------------------------------------------------
    state = property(lambda self: self._details["state"])
    scoring_uri = property(lambda self: self._details.get("scoring_uri"))
    swagger_uri = property(lambda self: self._details.get("swagger_uri"))
    compute_type = property(lambda self: self._details.get("compute_type"))
    port = property(lambda self: self._details.get("port"))
    error = property(lambda self: self._details.get("error"))
    tags = property(lambda self: dict(self._details.get("tags") or {}))
    description = property(lambda self: self._details.get("description") or "")
    created_time = property(lambda self: self._details.get("created_at"))
    auth_enabled = property(lambda self: bool(self._details.get("auth_enabled")))
    revision = property(lambda self: int(self._details.get("revision") or 0))

    @property
    def models(self) -> builtins.list[Model]:
        return [Model(self.workspace, id=ref) for ref in self._details.get("models", [])]

    @property
    def autoscaler(self) -> AutoScaler:
        """v1's ``AksWebservice.autoscaler``: the service's autoscale settings (as last read)."""
        config = self._details.get("deployment_config") or {}
        return AutoScaler(bool(config.get("autoscale_enabled")), int(config.get("autoscale_max_replicas", 10)),
                          int(config.get("autoscale_min_replicas", 1)),
                          float(config.get("autoscale_refresh_seconds", 1)),
                          int(config.get("autoscale_target_utilization", 70)))

    @property
    def num_replicas(self) -> int:
        """v1's ``AksWebservice.num_replicas``: replicas running now (under autoscaling, the current count)."""
        live = [r for r in self._details.get("replicas") or [] if r.get("state") not in ("draining", "dead")]
        config = self._details.get("deployment_config") or {}
        return len(live) if live or config.get("autoscale_enabled") else int(config.get("replicas", 1))

    def reload(self) -> Webservice:
        self._details = self._get()
        return self

    update_deployment_state = reload

    def get_details(self) -> dict[str, Any]:
        return dict(self.reload()._details)

    def serialize(self) -> dict[str, Any]:
        return {"workspace": self.workspace.name, **self._details}

    # -- waiting --------------------------------------------------------------------------------------------
    def wait_for_deployment(self, show_output: bool = False, timeout_sec: float | None = None) -> None:
        """Wait until the create/update in progress ended; raise ``WebserviceException`` if the service failed
        or if the create/update that this object started failed (the old revision then still serves)."""
        deadline = time.monotonic() + (timeout_sec or 3600)
        printed = 0
        while True:
            self.reload()
            operation = self._details.get("operation") or {}
            busy = self.state == "Transitioning" or operation.get("status") == "Running"
            if show_output:
                lines = self.get_logs(num_lines=5000).splitlines()
                for line in lines[printed:] if printed <= len(lines) else lines:
                    print(line)
                printed = len(lines)
            if not busy:
                break
            if time.monotonic() > deadline:
                raise WebserviceException(f"web service {self.name!r} is still {self.state} after {timeout_sec} s",
                                          hint="look at service.get_logs()")
            time.sleep(0.3)
        if show_output:
            where = f", scoring URI {self.scoring_uri}" if self.state == "Healthy" else ""
            print(f"{self.name}: {self.state}{where}")
        failed = operation.get("status") == "Failed" and operation.get("revision") == self._watching
        if self.state == "Failed" or failed:
            message = ((operation.get("error") or self.error or {}).get("message")) or self.state
            raise WebserviceException(f"web service {self.name!r}: {operation.get('kind', 'deployment')} failed: "
                                      f"{message}", hint="see service.get_logs()", details=operation.get("error"))

    # -- using ----------------------------------------------------------------------------------------------
    def run(self, input_data: Any, timeout: float | None = None) -> Any:
        """POST ``input_data`` (a JSON string, bytes, or data to encode) to the scoring URI; return the JSON
        result. A failed request raises ``WebserviceException`` with the status and the service's message."""
        if isinstance(input_data, bytes):
            body = input_data
        elif isinstance(input_data, str):
            body = input_data.encode()
        else:
            body = json.dumps(input_data).encode()
        if not self.scoring_uri:
            self.reload()
        limit = int((self._details.get("deployment_config") or {}).get("max_request_bytes") or 0)
        if limit and len(body) > limit:
            raise ScoringRequestTooLarge(self._too_large(len(body), limit), hint=RAISE_LIMIT,
                                         details={"size": len(body), "max_request_bytes": limit})
        for attempt in (1, 2):
            headers = {"Content-Type": "application/json"}
            if self.auth_enabled:
                if self._key is None or attempt == 2:
                    self._key = self.get_keys()[0]
                headers["Authorization"] = f"Bearer {self._key}"
            request = urllib.request.Request(self.scoring_uri, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=timeout or 300) as response:
                    return json.loads(response.read() or b"null")
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt == 1 and self.auth_enabled:
                    continue  # the key may have been regenerated: fetch it again once
                raw = exc.read()
                try:
                    error = json.loads(raw)["error"]
                    message = error.get("message", raw.decode(errors="replace"))
                except (ValueError, KeyError, TypeError):
                    error, message = None, raw.decode(errors="replace")[:500]
                if exc.code == 413:
                    raise ScoringRequestTooLarge(f"scoring failed with status 413: {message}", hint=RAISE_LIMIT,
                                                 details=error) from None
                failure = WebserviceException(f"scoring failed with status {exc.code}: {message}",
                                              hint="see service.get_logs()", details=error)
                failure.status = exc.code
                raise failure from None
            except (ConnectionError, http.client.HTTPException, urllib.error.URLError) as exc:
                reason = getattr(exc, "reason", exc)
                self.reload()  # the limit may have changed since this object read it
                limit = int((self._details.get("deployment_config") or {}).get("max_request_bytes") or 0)
                if limit and len(body) > limit:
                    raise ScoringRequestTooLarge(self._too_large(len(body), limit), hint=RAISE_LIMIT,
                                                 details={"size": len(body), "max_request_bytes": limit}) from None
                raise WebserviceException(f"scoring request to {self.scoring_uri} failed: {reason}",
                                          hint=f"is the service up? service.state is {self.state!r}; "
                                               "see service.get_logs()") from None
        return None

    def _too_large(self, size: int, limit: int) -> str:
        return (f"the scoring request is {size} bytes; web service {self.name!r} accepts at most {limit} bytes "
                f"(max_request_bytes)")

    def get_logs(self, num_lines: int = 5000, init: bool = False) -> str:
        lines = self._api.endpoint_logs(self.workspace.name, self.name, lines=num_lines)["lines"]
        return "\n".join(lines)

    def get_keys(self) -> tuple[str, str]:
        keys = self._api.endpoint_keys(self.workspace.name, self.name)
        return keys["primary_key"], keys["secondary_key"]

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        kind = {"primary": "Primary", "secondary": "Secondary"}.get(key.lower())
        if kind is None:
            raise InvalidInput(f"key must be 'Primary' or 'Secondary', not {key!r}")
        body: dict[str, Any] = {"key_type": kind}
        if set_key:
            body["key_value"] = set_key
        self._api.regenerate_endpoint_key(self.workspace.name, self.name, cast(T.RegenerateKey, body))

    def get_telemetry(self, minutes: int = 60) -> dict[str, Any]:
        """Requests, errors and latency percentiles, in total and per minute."""
        return dict(self._api.endpoint_telemetry(self.workspace.name, self.name, minutes=minutes))

    def get_swagger(self) -> dict[str, Any]:
        return self._api.endpoint_swagger(self.workspace.name, self.name)

    # -- changing -------------------------------------------------------------------------------------------
    def update(self, models: builtins.list[Model] | None = None, inference_config: InferenceConfig | None = None,
               replicas: int | None = None, auth_enabled: bool | None = None, scoring_timeout_ms: int | None = None,
               max_request_bytes: int | None = None, description: str | None = None, tags: dict[str, Any] | None = None,
               wait: bool = True, show_output: bool = False, num_replicas: int | None = None,
               enable_app_insights: bool | None = None, autoscale_enabled: bool | None = None,
               autoscale_min_replicas: int | None = None, autoscale_max_replicas: int | None = None,
               autoscale_refresh_seconds: float | None = None, autoscale_target_utilization: int | None = None,
               replica_overrun_limit_seconds: float | None = None, **unsupported: Any) -> None:
        """Roll out a new revision (models, scoring code, replicas) or change settings. The new revision takes
        traffic only once all its replicas are ready; if it fails, the old one keeps serving and this raises.

        v1's ``num_replicas`` (AKS) is ``replicas``; ``enable_app_insights`` needs nothing (telemetry is always
        kept). v1's AKS ``autoscale_*`` settings and ``replica_overrun_limit_seconds`` change in place. Any other
        v1 setting given a value is refused, naming it, rather than ignored."""
        scaling = {"autoscale_enabled": autoscale_enabled, "autoscale_min_replicas": autoscale_min_replicas,
                   "autoscale_max_replicas": autoscale_max_replicas,
                   "autoscale_refresh_seconds": autoscale_refresh_seconds,
                   "autoscale_target_utilization": autoscale_target_utilization,
                   "replica_overrun_limit_seconds": replica_overrun_limit_seconds}
        config = unsupported.pop("deployment_config", None)  # v1's LocalWebservice.update(deployment_config=)
        if config is not None:
            explicit_replicas = replicas
            replicas, auth_enabled, scoring_timeout_ms, max_request_bytes, tags, description = self._from_config(
                config, replicas, auth_enabled, scoring_timeout_ms, max_request_bytes, tags, description)
            if scaling_from_config(scaling, config):
                replicas = explicit_replicas  # the autoscaler sets the count
        given = sorted(k for k, v in unsupported.items() if v is not None and v is not False and v != {})
        if given:
            raise InvalidInput(
                f"service.update({', '.join(f'{k}=...' for k in given)}) is not supported here",
                hint="the settings this workspace changes in place are models, inference_config, replicas "
                     "(num_replicas), auth_enabled, scoring_timeout_ms, max_request_bytes, tags, description, "
                     f"{', '.join(AUTOSCALE_SETTINGS)} and replica_overrun_limit_seconds; for others, deploy "
                     "again with overwrite=True")
        if num_replicas is not None:
            if replicas is not None and replicas != num_replicas:
                raise InvalidInput("give replicas or num_replicas, not both")
            replicas = num_replicas
        body: dict[str, Any] = {}
        if models is not None:
            body["models"] = [m.id if isinstance(m, Model) else str(m) for m in models]
        if inference_config is not None:
            body["inference_config"] = inference_config._spec(self.workspace)
        for key, value in (("replicas", replicas), ("auth_enabled", auth_enabled),
                           ("scoring_timeout_ms", scoring_timeout_ms), ("max_request_bytes", max_request_bytes),
                           ("description", description)):
            if value is not None:
                body[key] = value
        if tags is not None:
            body["tags"] = {k: str(v) for k, v in tags.items()}
        body.update(check_scaling_update(scaling, replicas))
        self._details = cast(dict[str, Any], self._api.update_endpoint(self.workspace.name, self.name,
                                                                       cast(T.DeploymentUpdate, body)))
        rolls_out = any(k in body for k in ("models", "inference_config", "replicas"))
        self._watching = (self._details.get("operation") or {}).get("revision") if rolls_out else None
        if wait and rolls_out:
            self.wait_for_deployment(show_output=show_output)

    def _from_config(self, config: Any, *explicit: Any) -> tuple[Any, ...]:
        """The settings of a ``deploy_configuration()`` given to ``update``; explicit arguments win."""
        if not isinstance(config, LocalWebserviceDeploymentConfiguration):
            raise InvalidInput("deployment_config must come from a deploy_configuration(), not "
                               f"{type(config).__name__}")
        current = self._details.get("deployment_config") or {}
        if config.port is not None and config.port != self.port:
            raise InvalidInput(f"web service {self.name!r} keeps its port {self.port}; it cannot move to {config.port}",
                               hint="deploy again with overwrite=True to serve on another port")
        for key in ("compute_type", "cpu_cores", "memory_gb", "max_concurrent_requests_per_container",
                    "collect_model_data", "data_collection", "max_batch_size", "max_batch_wait_ms"):
            ours = getattr(config, key, None)
            if ours is not None and key in current and ours != current[key]:
                raise InvalidInput(f"{key} of web service {self.name!r} cannot change in place "
                                   f"({current[key]!r} -> {ours!r})", hint="deploy again with overwrite=True")
        # Only what differs from the service's settings: an unchanged replica count rolls out no new revision.
        changed = [None if key in current and getattr(config, key) == current[key] else getattr(config, key)
                   for key in ("replicas", "auth_enabled", "scoring_timeout_ms", "max_request_bytes")]
        values = (*changed, config.tags, config.description)
        return tuple(e if e is not None else v for e, v in zip(explicit, values, strict=True))

    def delete(self) -> None:
        self._api.delete_endpoint(self.workspace.name, self.name)

    def __repr__(self) -> str:
        return (f"Webservice(workspace={self.workspace.name!r}, name={self.name!r}, "
                f"state={self._details.get('state')!r}, scoring_uri={self._details.get('scoring_uri')!r})")



class LocalWebservice(Webservice):
    """v1's local web service: replica processes on this machine. ``LocalWebservice(ws, name)`` finds one."""

    @staticmethod
    def deploy_configuration(port: int | None = None, replicas: int = 1, auth_enabled: bool = True,
                             scoring_timeout_ms: int = 60_000,
                             max_request_bytes: int = LocalWebserviceDeploymentConfiguration.max_request_bytes,
                             max_concurrent_requests_per_container: int = 1, startup_timeout_seconds: int = 300,
                             tags: dict[str, Any] | None = None, description: str | None = None,
                             replica_overrun_limit_seconds: float | None = None, max_batch_size: int | None = None,
                             max_batch_wait_ms: int | None = None
                             ) -> LocalWebserviceDeploymentConfiguration:
        """``port`` None or 0: a free port, kept across updates and restarts. ``max_batch_size`` > 1 batches
        concurrent requests into one ``run_batch()`` call (docs/deployments.md#dynamic-batching)."""
        return LocalWebserviceDeploymentConfiguration(
            port=port, replicas=replicas, auth_enabled=auth_enabled, scoring_timeout_ms=scoring_timeout_ms,
            max_request_bytes=max_request_bytes,
            max_concurrent_requests_per_container=max_concurrent_requests_per_container,
            startup_timeout_seconds=startup_timeout_seconds, tags=tags, description=description,
            replica_overrun_limit_seconds=replica_overrun_limit_seconds, max_batch_size=max_batch_size,
            max_batch_wait_ms=max_batch_wait_ms)


class DockerWebservice(Webservice):
    """Replicas as Docker containers on this machine's engine."""

    @staticmethod
    def deploy_configuration(port: int | None = None, replicas: int = 1, cpu_cores: float | None = None,
                             memory_gb: float | None = None, auth_enabled: bool = True,
                             scoring_timeout_ms: int = 60_000,
                             max_request_bytes: int = LocalWebserviceDeploymentConfiguration.max_request_bytes,
                             max_concurrent_requests_per_container: int = 1, startup_timeout_seconds: int = 300,
                             tags: dict[str, Any] | None = None, description: str | None = None,
                             replica_overrun_limit_seconds: float | None = None, max_batch_size: int | None = None,
                             max_batch_wait_ms: int | None = None
                             ) -> DockerWebserviceDeploymentConfiguration:
        return DockerWebserviceDeploymentConfiguration(
            port=port, replicas=replicas, cpu_cores=cpu_cores, memory_gb=memory_gb, auth_enabled=auth_enabled,
            scoring_timeout_ms=scoring_timeout_ms, max_request_bytes=max_request_bytes,
            max_concurrent_requests_per_container=max_concurrent_requests_per_container,
            startup_timeout_seconds=startup_timeout_seconds, tags=tags, description=description,
            replica_overrun_limit_seconds=replica_overrun_limit_seconds, max_batch_size=max_batch_size,
            max_batch_wait_ms=max_batch_wait_ms)


class AciWebservice(Webservice):
    """Azure Container Instances in v1 scripts: one Docker container here, keys off by default (as ACI)."""

    deploy_configuration = staticmethod(aci_configuration)


class AksWebservice(Webservice):
    """Azure Kubernetes Service in v1 scripts: Docker containers here (or replica processes with
    ``compute_type="local"``), ``num_replicas`` of them or autoscaled as on AKS; keys on (as AKS)."""

    deploy_configuration = staticmethod(aks_configuration)


__all__ = ["AciServiceDeploymentConfiguration", "AciWebservice", "AksCompute", "AksServiceDeploymentConfiguration",
           "AksWebservice", "AutoScaler", "DockerWebservice", "DockerWebserviceDeploymentConfiguration",
           "InferenceConfig", "LocalWebservice", "LocalWebserviceDeploymentConfiguration", "ScoringRequestTooLarge",
           "Webservice", "WebserviceException"]
