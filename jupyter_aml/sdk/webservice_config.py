"""Deployment configurations with Azure ML v1's names: ``LocalWebservice``, ``DockerWebservice``,
``AciWebservice`` and ``AksWebservice`` ``.deploy_configuration(...)``, and the AKS compute target.

Every v1 argument is either carried out or answered: settings that change how the service behaves and that
this workspace cannot honour (TLS, GPUs, Azure AD tokens) raise ``InvalidInput``
saying what to do instead; settings that only place the service in Azure (a region, a DNS label, a
Kubernetes namespace) have no meaning on one machine and are accepted with a warning that says so.

- ``AciWebservice`` keeps ACI's defaults: keys off (``auth_enabled=False``), so Azure's tutorials score
  with a plain ``requests.post``; the replica is a Docker container.
- ``AksWebservice`` is the Docker web service (or, with ``compute_type="local"``, replica processes) with
  ``num_replicas`` replicas, or autoscaled between ``autoscale_min_replicas`` and ``autoscale_max_replicas``
  (v1's AKS default when ``num_replicas`` is not given); keys on, as on AKS.
- ``tags`` and ``description`` are kept on the service; ``primary_key`` / ``secondary_key`` set its keys.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, fields
from typing import Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.compute import ComputeTargetException

# 128 MiB: the whole MNIST test set (10000 x 784 pixels scaled to 0..1) is about 57 MiB of JSON and
# Fashion-MNIST's about 100 MiB; Azure's v1 tutorials score such sets in one call.
DEFAULT_MAX_REQUEST_BYTES = 128 * 1024 * 1024
MAX_REQUEST_BYTES_CEILING = 1024**3
KEY_VALUE = re.compile(r"[A-Za-z0-9_.~+/=-]{16,128}")
SERVICE_FIELDS = ("tags", "description", "primary_key", "secondary_key")  # kept on the service, not in its spec
AUTOSCALE_SETTINGS = ("autoscale_enabled", "autoscale_min_replicas", "autoscale_max_replicas",
                      "autoscale_target_utilization", "autoscale_refresh_seconds")


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} must be an integer from {low} to {high}, not {value!r}")
    return value


def check_scaling(min_replicas: int | None, max_replicas: int | None, target: int | None, refresh: float | None,
                  overrun_limit: float | None = None) -> None:
    """v1's autoscale bounds (and the overrun limit), each with the reason it is wrong."""
    if min_replicas is not None:
        if isinstance(min_replicas, int) and not isinstance(min_replicas, bool) and min_replicas < 1:
            raise InvalidInput(f"autoscale_min_replicas must be at least 1, not {min_replicas}",
                               hint="a web service keeps at least one replica here (no scale to zero)")
        _integer("autoscale_min_replicas", min_replicas, 1, 32)
    if max_replicas is not None:
        _integer("autoscale_max_replicas", max_replicas, 1, 32)
    low, high = min_replicas or 1, max_replicas or 10
    if low > high:
        raise InvalidInput(f"autoscale_min_replicas ({low}) is more than autoscale_max_replicas ({high})")
    if target is not None and (isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= 100):
        raise InvalidInput(f"autoscale_target_utilization is a percentage from 1 to 100, not {target!r}",
                           hint="70 (v1's default) adds a replica when each carries 0.7 of its concurrent "
                                "requests on average")
    for name, value, least in (("autoscale_refresh_seconds", refresh, 0.1),
                               ("replica_overrun_limit_seconds", overrun_limit, 0.1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < least):
            raise InvalidInput(f"{name} must be a number of seconds of at least {least}, not {value!r}")


def check_batching(size: int | None, wait_ms: int | None, timeout_ms: int) -> None:
    """Dynamic batching's settings, each with the reason it is wrong."""
    if size is not None:
        _integer("max_batch_size", size, 1, 1024)
    if wait_ms is not None:
        _integer("max_batch_wait_ms", wait_ms, 0, 60_000)
        if wait_ms and (size or 1) <= 1:
            raise InvalidInput(f"max_batch_wait_ms ({wait_ms}) has no effect without batching: max_batch_size is "
                               f"{size or 1}", hint="give max_batch_size=N (N > 1) too, and define "
                                                    "run_batch(requests) in the scoring script")
        if (size or 1) > 1 and wait_ms >= timeout_ms:
            raise InvalidInput(f"max_batch_wait_ms ({wait_ms}) is not shorter than scoring_timeout_ms "
                               f"({timeout_ms}): every request would time out waiting for its batch",
                               hint="a wait of a few milliseconds (max_batch_wait_ms=5) is usual")


def scaling_from_config(scaling: dict[str, Any], config: Any) -> bool:
    """``service.update(deployment_config=AksWebservice.deploy_configuration(...))``: take its autoscale settings
    where no explicit argument gave one; True when it autoscales (then its replica count is not a setting)."""
    for key in scaling:
        if scaling[key] is None and getattr(config, key, None) is not None and (
                key != "autoscale_enabled" or getattr(config, key)):
            scaling[key] = getattr(config, key)
    return bool(getattr(config, "autoscale_enabled", False))


def check_scaling_update(scaling: dict[str, Any], replicas: int | None) -> dict[str, Any]:
    """An update's autoscale settings, checked as v1 checks them; the ones given, for the request body."""
    enabled = scaling.get("autoscale_enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidInput(f"autoscale_enabled must be True or False, not {enabled!r}")
    check_scaling(scaling.get("autoscale_min_replicas"), scaling.get("autoscale_max_replicas"),
                  scaling.get("autoscale_target_utilization"), scaling.get("autoscale_refresh_seconds"),
                  scaling.get("replica_overrun_limit_seconds"))
    if enabled and replicas is not None:
        raise InvalidInput("num_replicas cannot be given with autoscale_enabled=True (as in v1): the autoscaler "
                           "sets the number of replicas")
    return {k: v for k, v in scaling.items() if v is not None}


@dataclass
class LocalWebserviceDeploymentConfiguration:
    """Replica processes on the service's machine behind a load balancer on ``port`` (None or 0: a free port)."""

    port: int | None = None
    replicas: int = 1
    auth_enabled: bool = True
    scoring_timeout_ms: int = 60_000
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_concurrent_requests_per_container: int = 1
    startup_timeout_seconds: int = 300
    # v1's collect_model_data, and how much is kept: {"sample_rate", "max_record_bytes", "max_day_bytes"}
    collect_model_data: bool = False
    data_collection: dict[str, Any] | None = None
    compute_type: str = "local"
    replica_overrun_limit_seconds: float | None = None  # the hung-replica guard; None: 60 s
    # dynamic batching (not in v1): up to max_batch_size requests per run_batch() call, the first waiting up
    # to max_batch_wait_ms for the others (docs/deployments.md#dynamic-batching); None: no batching
    max_batch_size: int | None = None
    max_batch_wait_ms: int | None = None
    tags: dict[str, str] | None = None
    description: str | None = None
    primary_key: str | None = None
    secondary_key: str | None = None

    def __post_init__(self) -> None:
        if self.port is not None:
            if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
                raise InvalidInput(f"port must be an integer from 1 to 65535, or 0 or None for a free port, "
                                   f"not {self.port!r}")
            self.port = self.port or None
        if not isinstance(self.replicas, int) or not 1 <= self.replicas <= 32:
            raise InvalidInput(f"the number of replicas must be 1..32, not {self.replicas!r}")
        check_scaling(None, None, None, None, self.replica_overrun_limit_seconds)
        check_batching(self.max_batch_size, self.max_batch_wait_ms, self.scoring_timeout_ms)
        if not 1024 <= int(self.max_request_bytes) <= MAX_REQUEST_BYTES_CEILING:
            raise InvalidInput(f"max_request_bytes must be 1024..{MAX_REQUEST_BYTES_CEILING}, "
                               f"not {self.max_request_bytes!r}")
        if self.tags is not None:
            if not isinstance(self.tags, dict):
                raise InvalidInput("tags must be a dict of names to values", hint="tags={'area': 'digits'}")
            self.tags = {str(k): str(v) for k, v in self.tags.items()}
        if self.description is not None and not isinstance(self.description, str):
            raise InvalidInput(f"description must be a string, not {type(self.description).__name__}")
        for name in ("primary_key", "secondary_key"):
            value = getattr(self, name)
            if value is not None and not KEY_VALUE.fullmatch(str(value)):
                raise InvalidInput(f"{name} must be 16..128 characters of letters, digits and _.~+/=-",
                                   hint="or leave it unset to get a random key")

    def _spec(self) -> dict[str, Any]:
        """The REST ``deployment_config``: what the replicas need (tags, description and keys go elsewhere)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in SERVICE_FIELDS and getattr(self, f.name) is not None}


@dataclass
class DockerWebserviceDeploymentConfiguration(LocalWebserviceDeploymentConfiguration):
    """Replicas as Docker containers of an image built from the environment, models and scoring code."""

    cpu_cores: float | None = None
    memory_gb: float | None = None
    compute_type: str = "docker"


@dataclass
class AciServiceDeploymentConfiguration(DockerWebserviceDeploymentConfiguration):
    """``AciWebservice.deploy_configuration``: one Docker container, keys off unless asked for (as ACI)."""

    auth_enabled: bool = False


@dataclass
class AksServiceDeploymentConfiguration(DockerWebserviceDeploymentConfiguration):
    """``AksWebservice.deploy_configuration``: ``num_replicas`` Docker containers behind the balancer, or as
    many as the load needs between the autoscale bounds (``jupyter_aml.serving.autoscale_policy``)."""

    autoscale_enabled: bool = False
    autoscale_min_replicas: int | None = None  # None: the service's defaults (1, 10, 70 %, 1 s)
    autoscale_max_replicas: int | None = None
    autoscale_target_utilization: int | None = None
    autoscale_refresh_seconds: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_scaling(self.autoscale_min_replicas, self.autoscale_max_replicas, self.autoscale_target_utilization,
                      self.autoscale_refresh_seconds)
        if self.autoscale_enabled:
            self.replicas = self.autoscale_min_replicas or 1

    @property
    def num_replicas(self) -> int:
        """v1's name for the replica count."""
        return self.replicas

    @num_replicas.setter
    def num_replicas(self, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 32:
            raise InvalidInput(f"the number of replicas must be 1..32, not {value!r}")
        self.replicas = value


@dataclass(frozen=True)
class AutoScaler:
    """v1's ``azureml.core.webservice.webservice.AutoScaler``: a service's autoscale settings, read only."""

    autoscale_enabled: bool
    max_replicas: int
    min_replicas: int
    refresh_period_seconds: float
    target_utilization: int


def _refuse(name: str, why: str, hint: str) -> InvalidInput:
    return InvalidInput(f"{name} is not supported here: {why}", hint=hint)


def _check_common(kind: str, given: dict[str, Any]) -> None:
    """The v1 arguments that ACI and AKS share and that this workspace cannot honour, or honours as is."""
    if given.get("properties"):
        raise _refuse("properties", "a web service keeps tags and a description, not properties",
                      "pass them as tags={...}")
    for name in ("ssl_enabled", "ssl_cert_pem_file", "ssl_key_pem_file", "ssl_cname"):
        if given.get(name):
            raise _refuse(name, "the scoring URI is plain HTTP on this machine",
                          "put a TLS-terminating proxy in front of the scoring URI, and leave the ssl_* settings unset")
    for name in ("cmk_vault_base_url", "cmk_key_name", "cmk_key_version", "vnet_name", "subnet_name"):
        if given.get(name):
            raise _refuse(name, "there is no Azure key vault or virtual network here", f"leave {name} unset")
    placement = [n for n in ("location", "dns_name_label", "namespace", "compute_target_name", "blobfuse_enabled",
                             "max_request_wait_time", "period_seconds", "initial_delay_seconds",
                             "timeout_seconds", "success_threshold", "failure_threshold")
                 if given.get(n) is not None]
    if placement:
        warnings.warn(
            f"{kind}.deploy_configuration: {', '.join(placement)} {'has' if len(placement) == 1 else 'have'} no "
            "effect here: the service runs on this machine, whose balancer probes each replica every 2 s and "
            "waits up to scoring_timeout_ms for a ready one", UserWarning, stacklevel=3)
    # enable_app_insights: request counts, errors and latency are always kept (service.get_telemetry()).


def aci_configuration(
    cpu_cores: float | None = None, memory_gb: float | None = None, tags: dict[str, Any] | None = None,
    properties: dict[str, Any] | None = None, description: str | None = None, location: str | None = None,
    auth_enabled: bool | None = None, ssl_enabled: bool | None = None, enable_app_insights: bool | None = None,
    ssl_cert_pem_file: str | None = None, ssl_key_pem_file: str | None = None, ssl_cname: str | None = None,
    dns_name_label: str | None = None, primary_key: str | None = None, secondary_key: str | None = None,
    collect_model_data: bool | None = None, cmk_vault_base_url: str | None = None, cmk_key_name: str | None = None,
    cmk_key_version: str | None = None, vnet_name: str | None = None, subnet_name: str | None = None,
    *, port: int | None = None, scoring_timeout_ms: int = 60_000,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES, max_batch_size: int | None = None,
    max_batch_wait_ms: int | None = None,
) -> AciServiceDeploymentConfiguration:
    _check_common("AciWebservice", dict(locals()))
    return AciServiceDeploymentConfiguration(
        port=port, cpu_cores=cpu_cores, memory_gb=memory_gb, auth_enabled=bool(auth_enabled),
        collect_model_data=bool(collect_model_data),
        scoring_timeout_ms=scoring_timeout_ms, max_request_bytes=max_request_bytes, tags=tags,
        description=description, primary_key=primary_key, secondary_key=secondary_key,
        max_batch_size=max_batch_size, max_batch_wait_ms=max_batch_wait_ms)


def aks_configuration(
    autoscale_enabled: bool | None = None, autoscale_min_replicas: int | None = None,
    autoscale_max_replicas: int | None = None, autoscale_refresh_seconds: int | None = None,
    autoscale_target_utilization: int | None = None, collect_model_data: bool | None = None,
    auth_enabled: bool | None = None, cpu_cores: float | None = None, memory_gb: float | None = None,
    enable_app_insights: bool | None = None, scoring_timeout_ms: int | None = None,
    replica_max_concurrent_requests: int | None = None, max_request_wait_time: int | None = None,
    num_replicas: int | None = None, primary_key: str | None = None, secondary_key: str | None = None,
    tags: dict[str, Any] | None = None, properties: dict[str, Any] | None = None, description: str | None = None,
    gpu_cores: int | None = None, period_seconds: int | None = None, initial_delay_seconds: int | None = None,
    timeout_seconds: int | None = None, success_threshold: int | None = None, failure_threshold: int | None = None,
    namespace: str | None = None, token_auth_enabled: bool | None = None, compute_target_name: str | None = None,
    cpu_cores_limit: float | None = None, memory_gb_limit: float | None = None, blobfuse_enabled: bool | None = None,
    *, port: int | None = None, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES, compute_type: str = "docker",
    replica_overrun_limit_seconds: float | None = None, max_batch_size: int | None = None,
    max_batch_wait_ms: int | None = None,
) -> AksServiceDeploymentConfiguration:
    """As on AKS, a service autoscales unless ``num_replicas`` is given (``autoscale_enabled`` then defaults
    to False); both together is refused, as v1 refuses it. ``compute_type="local"`` (not a v1 argument) runs
    the replicas as processes instead of Docker containers."""
    given = dict(locals())
    _check_common("AksWebservice", given)
    if autoscale_enabled and num_replicas is not None:
        raise InvalidInput("num_replicas cannot be given with autoscale_enabled=True (as in v1): the autoscaler "
                           "sets the number of replicas",
                           hint="give autoscale_min_replicas / autoscale_max_replicas, or autoscale_enabled=False "
                                "with num_replicas=N")
    autoscale = bool(num_replicas is None) if autoscale_enabled is None else bool(autoscale_enabled)
    bounds = [n for n in AUTOSCALE_SETTINGS[1:] if given[n] is not None]
    if bounds and not autoscale:
        raise InvalidInput(f"{', '.join(bounds)} {'has' if len(bounds) == 1 else 'have'} no effect without "
                           "autoscaling", hint="drop num_replicas (or set autoscale_enabled=True) to autoscale")
    if token_auth_enabled:
        raise _refuse("token_auth_enabled=True", "Azure AD tokens are not issued here",
                      "use key auth (auth_enabled=True, the default) and service.get_keys()")
    if gpu_cores:
        raise _refuse("gpu_cores", "web service replicas run on CPUs here", "leave gpu_cores unset")
    if compute_type not in ("docker", "local"):
        raise InvalidInput(f"compute_type must be 'docker' or 'local' for an AksWebservice, not {compute_type!r}")
    limits = (cpu_cores_limit or cpu_cores, memory_gb_limit or memory_gb)
    if compute_type == "local" and any(v is not None for v in limits):
        raise InvalidInput("cpu_cores and memory_gb limit Docker containers: replica processes "
                           "(compute_type='local') have no such limits", hint="leave them unset, or use Docker")
    config = AksServiceDeploymentConfiguration(
        port=port, replicas=num_replicas or 1, auth_enabled=True if auth_enabled is None else bool(auth_enabled),
        scoring_timeout_ms=scoring_timeout_ms or 60_000, max_request_bytes=max_request_bytes,
        max_concurrent_requests_per_container=replica_max_concurrent_requests or 1,
        cpu_cores=limits[0], memory_gb=limits[1], tags=tags, compute_type=compute_type,
        description=description, primary_key=primary_key, secondary_key=secondary_key,
        replica_overrun_limit_seconds=replica_overrun_limit_seconds, autoscale_enabled=autoscale,
        autoscale_min_replicas=autoscale_min_replicas, autoscale_max_replicas=autoscale_max_replicas,
        autoscale_target_utilization=autoscale_target_utilization, autoscale_refresh_seconds=autoscale_refresh_seconds,
        collect_model_data=bool(collect_model_data), max_batch_size=max_batch_size,
        max_batch_wait_ms=max_batch_wait_ms)
    return config


class AksCompute:
    """Azure Kubernetes Service clusters, in v1 scripts: there are none here. Web services deploy without a
    ``deployment_target`` (``AksWebservice.deploy_configuration`` gives Docker replicas on this machine)."""

    MESSAGE = ("AKS clusters (AksCompute) are not available here: web services run on this workspace's machine, "
               "as local processes or Docker containers")
    HINT = ("drop the AksCompute target and deploy with Model.deploy(ws, name, models, inference_config, "
            "AksWebservice.deploy_configuration(num_replicas=N))")

    def __init__(self, workspace: Any = None, name: str | None = None, *args: Any, **kwargs: Any) -> None:
        raise ComputeTargetException(self.MESSAGE, hint=self.HINT)

    @classmethod
    def provisioning_configuration(cls, *args: Any, **kwargs: Any) -> Any:
        raise ComputeTargetException(cls.MESSAGE, hint=cls.HINT)

    @classmethod
    def attach_configuration(cls, *args: Any, **kwargs: Any) -> Any:
        raise ComputeTargetException(
            "attaching an existing AKS cluster is not available here: web services run on this workspace's "
            "machine", hint=cls.HINT)

    @classmethod
    def attach(cls, *args: Any, **kwargs: Any) -> Any:
        return cls.attach_configuration()

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> Any:
        raise ComputeTargetException(cls.MESSAGE, hint=cls.HINT)


def refuse_deployment_target(target: Any) -> None:
    """``Model.deploy(..., deployment_target=...)``: v1 named an AKS cluster or an attached target here."""
    if target is None:
        return
    name = getattr(target, "name", None) or str(target)
    raise InvalidInput(
        f"deployment_target {name!r} is not supported here: web services run on this workspace's machine, not on "
        "an AKS cluster or an attached compute target",
        hint="call Model.deploy without deployment_target; choose local processes or Docker containers with the "
             "deployment configuration (LocalWebservice, AciWebservice, AksWebservice(num_replicas=N))")
