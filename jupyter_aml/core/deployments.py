"""Web service records: desired state, the revision taking traffic, an update in progress, keys, telemetry.

This module only keeps the records; ``jupyter_aml.serving.manager`` makes them true (starts replicas,
switches traffic) and reports back with ``finish`` / ``set_state``. A deployment links the model
versions it uses (live, or being rolled out) so that the registry refuses to delete them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, cast

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_aml.core import registry_models as rm
from jupyter_aml.core import telemetry as tm
from jupyter_aml.core.environments import EnvironmentRegistry, spec_hash
from jupyter_aml.core.events import EventSink, WebserviceEvent, discard
from jupyter_aml.core.models import RunFile
from jupyter_aml.core.registry import ModelRegistry
from jupyter_aml.core.secretbox import SecretBox
from jupyter_aml.core.service_keys import ServiceKeyVault, new_key
from jupyter_aml.core.workspaces import WorkspaceService, utc, utcnow
from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.snapshot.paths import validate_relpath
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import (
    DeploymentModelRow,
    DeploymentRow,
    EndpointStatRow,
    ModelRow,
    SnapshotFileRow,
    SnapshotRow,
    WorkspaceRow,
)

TRANSITIONING, HEALTHY, UNHEALTHY, FAILED = "Transitioning", "Healthy", "Unhealthy", "Failed"
REVISION_FIELDS = ("models", "inference_config", "replicas")


@dataclass(frozen=True)
class ModelPlan:
    id: int
    name: str
    version: int
    path: str
    files: list[RunFile]
    sample_input: Any = None


@dataclass(frozen=True)
class RevisionPlan:
    """Everything needed to start the replicas of one revision of a web service."""

    deployment_id: int
    workspace: str
    name: str
    revision: int
    compute_type: str
    models: list[ModelPlan]
    entry_script: str
    snapshot_id: str
    source_files: list[tuple[str, str, int]]  # (path, sha256, mode)
    environment: dict[str, Any]
    environment_hash: str
    deployment_config: dict[str, Any]
    port: int | None


class DeploymentStore:
    def __init__(self, db: Store, environments: EnvironmentRegistry, *, box: SecretBox, host: str = "127.0.0.1",
                 events: EventSink = discard) -> None:
        self.db = db
        self.vault = ServiceKeyVault(db, box)  # the keys are sealed in the database, opened to hand them out
        self.environments = environments
        self.host = host
        self.events = events
        # The compute types a launcher is installed for; wired by the application (the core knows no serving).
        # None accepts any name, and an unknown one then fails its rollout with the installed types named.
        self.compute_types: Callable[[], Collection[str]] | None = None

    def _changed(self, workspace: str, name: str, action: Literal["changed", "deleted"] = "changed") -> None:
        """Tell the push channel (after the commit) so that open panels refetch the service."""
        self.events(workspace, WebserviceEvent(action=action, name=name))

    @staticmethod
    def _names(s: Session, row: DeploymentRow) -> tuple[str, str]:
        workspace = s.scalar(select(WorkspaceRow.name).where(WorkspaceRow.id == row.workspace_id))
        return str(workspace), row.name

    # -- resolving ----------------------------------------------------------------------------------------
    @staticmethod
    def _models(s: Session, ws: WorkspaceRow, refs: Sequence[str]) -> list[ModelRow]:
        rows = [ModelRegistry.row_by_ref(s, ws, ref) for ref in refs]
        if len({r.id for r in rows}) != len(rows):
            raise InvalidInput("a model version is listed twice", hint="list each model version once")
        if len({r.name for r in rows}) != len(rows):
            raise InvalidInput(
                "two versions of one model in a single service are not supported",
                hint="deploy one version per model name",
            )
        return rows

    def _inference(self, s: Session, workspace: str, spec: rm.InferenceConfigSpec) -> dict[str, Any]:
        snap = s.get(SnapshotRow, spec.snapshot_id)
        if snap is None:
            raise InvalidInput(f"source snapshot {spec.snapshot_id} does not exist", hint="upload source_directory")
        entry = validate_relpath(spec.entry_script)
        if s.get(SnapshotFileRow, (spec.snapshot_id, entry)) is None:
            raise InvalidInput(
                f"entry_script {spec.entry_script!r} is not a file of source_directory",
                hint="entry_script is relative to source_directory (and must not be ignored by .amlignore)",
            )
        if spec.environment is not None and spec.environment_ref is not None:
            raise InvalidInput("give an environment or an environment_ref, not both")
        env_ref = None
        if spec.environment_ref is not None:
            registered = EnvironmentRegistry.resolve(s, WorkspaceService.row(s, workspace), spec.environment_ref)
            definition = registered.spec.model_copy(update={"version": None})
            env_ref = f"{registered.name}:{registered.version}"
        else:
            definition = spec.environment or rm.EnvironmentDefinition()
        return {
            "entry_script": entry,
            "snapshot_id": spec.snapshot_id,
            "environment": definition.model_dump(mode="json"),
            "environment_ref": env_ref,
            "environment_hash": spec_hash(definition),
        }

    @staticmethod
    def _link(s: Session, deployment_id: int, model_ids: Sequence[int]) -> None:
        s.execute(delete(DeploymentModelRow).where(DeploymentModelRow.deployment_id == deployment_id))
        s.add_all(DeploymentModelRow(deployment_id=deployment_id, model_id=m) for m in dict.fromkeys(model_ids))

    @staticmethod
    def row(s: Session, workspace: str, name: str) -> DeploymentRow:
        ws = WorkspaceService.row(s, workspace)
        row = s.scalar(select(DeploymentRow).where(DeploymentRow.workspace_id == ws.id, DeploymentRow.name == name))
        if row is None:
            raise NotFound(
                f"web service {name!r} not found in workspace {workspace!r}",
                hint="list web services with `aml endpoint list`",
            )
        return row

    def _check_compute_type(self, compute_type: str) -> None:
        known = set(self.compute_types()) if self.compute_types is not None else None
        if known is not None and compute_type not in known:
            raise InvalidInput(
                f"compute type {compute_type!r} has no launcher installed (installed: {', '.join(sorted(known))})",
                hint="use one of the installed compute types, or install the package that provides this one",
            )

    @staticmethod
    def _check_environment(compute_type: str, environment: dict[str, Any]) -> None:
        """Docker settings the service's replicas cannot honour are refused, never ignored: a ``local`` service's
        replicas are processes of this machine (a Docker service builds its image, base_dockerfile included)."""
        if environment.get("docker_base_image") and environment.get("docker_base_dockerfile"):
            raise InvalidInput("the environment names both docker.base_image and docker.base_dockerfile",
                               hint="give one: the Dockerfile's FROM line names its base image")
        if compute_type != "local":
            return
        docker = [name for name, key in (("docker.enabled=True", "docker_enabled"),
                                         ("docker.base_dockerfile", "docker_base_dockerfile")) if environment.get(key)]
        if docker:
            raise InvalidInput(
                f"a LocalWebservice runs its replicas as processes of this machine, not in Docker: the environment's "
                f"{' and '.join(docker)} would be ignored",
                hint="deploy it with AciWebservice.deploy_configuration() (a Docker container on this machine), or "
                     "set env.docker.enabled = False and drop docker.base_dockerfile for a LocalWebservice")

    # -- create / update / finish --------------------------------------------------------------------------
    def create(self, workspace: str, spec: rm.DeploymentCreate, *, created_by: str = "") -> rm.Webservice:
        self._check_compute_type(spec.deployment_config.compute_type)
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            models = self._models(s, ws, spec.models)
            inference = self._inference(s, workspace, spec.inference_config)
            self._check_environment(spec.deployment_config.compute_type, inference["environment"])
            now = utcnow()
            config = spec.deployment_config.model_dump(mode="json")
            primary_key, secondary_key = self.vault.new_pair()
            row = DeploymentRow(
                workspace_id=ws.id,
                name=spec.name,
                compute_type=spec.deployment_config.compute_type,
                state=TRANSITIONING,
                revision=0,
                model_ids=[m.id for m in models],
                inference_config=inference,
                deployment_config=config,
                pending={"revision": 1, "model_ids": [m.id for m in models], "inference_config": inference,
                         "deployment_config": config},
                operation={"kind": "create", "status": "Running", "revision": 1, "started_at": now.isoformat()},
                port=spec.deployment_config.port,
                primary_key=primary_key,
                secondary_key=secondary_key,
                tags=dict(spec.tags),
                description=spec.description,
                created_by=created_by,
                created_at=now,
                updated_at=now,
            )
            try:
                with s.begin_nested():
                    s.add(row)
            except IntegrityError:
                raise Conflict(
                    f"web service {spec.name!r} already exists",
                    hint="update it, delete it first, or deploy with overwrite=True",
                ) from None
            self._link(s, row.id, [m.id for m in models])
            created = self._model(s, ws, row)
        self._changed(workspace, spec.name)
        return created

    def begin_update(self, workspace: str, name: str, spec: rm.DeploymentUpdate) -> tuple[rm.Webservice, bool]:
        """Apply what needs no new replicas at once; return (service, whether a new revision must roll out)."""
        with self.db.session() as s:
            row = self.row(s, workspace, name)
            ws = WorkspaceService.row(s, workspace)
            config = dict(row.deployment_config)
            for key in ("scoring_timeout_ms", "max_request_bytes", "auth_enabled", *rm.IN_PLACE_SCALING):
                value = getattr(spec, key)
                if value is not None:
                    config[key] = value
            if spec.description is not None:
                row.description = spec.description
            if spec.tags is not None:
                row.tags = dict(spec.tags)
            needs_revision = any(getattr(spec, f) is not None for f in REVISION_FIELDS)
            if needs_revision:
                if row.pending is not None:
                    raise Conflict(
                        f"web service {name!r} is already being deployed or updated",
                        hint="wait for it (service.wait_for_deployment()) and retry",
                    )
                models = (
                    self._models(s, ws, spec.models)
                    if spec.models is not None
                    else [m for m in (s.get(ModelRow, i) for i in row.model_ids) if m is not None]
                )
                if not models:
                    raise InvalidInput("the web service's models no longer exist", hint="pass models=[...]")
                inference = (
                    self._inference(s, workspace, spec.inference_config)
                    if spec.inference_config is not None
                    else dict(row.inference_config)
                )
                self._check_environment(row.compute_type, inference["environment"])
                if spec.replicas is not None:
                    config["replicas"] = spec.replicas
                revision = row.revision + 1 if row.revision else 1
                row.pending = {"revision": revision, "model_ids": [m.id for m in models],
                               "inference_config": inference, "deployment_config": config}
                row.operation = {"kind": "update", "status": "Running", "revision": revision,
                                 "started_at": utcnow().isoformat()}
                if row.revision == 0:
                    row.state = TRANSITIONING
                self._link(s, row.id, [*row.model_ids, *(m.id for m in models)])
            else:
                row.deployment_config = config
            row.updated_at = utcnow()
            s.flush()
            updated = self._model(s, ws, row)
        self._changed(workspace, name)
        return updated, needs_revision

    def finish(self, deployment_id: int, revision: int, *, error: dict[str, Any] | None = None) -> None:
        """The rollout of ``revision`` ended: on success it takes traffic; on failure the old one stays."""
        with self.db.session() as s:
            row = s.get(DeploymentRow, deployment_id)
            if row is None or not row.pending or row.pending.get("revision") != revision:
                return
            names = self._names(s, row)
            op = dict(row.operation or {})
            op.update(ended_at=utcnow().isoformat(), status="Failed" if error else "Succeeded", error=error)
            row.operation = op
            if error is None:
                row.revision = revision
                row.model_ids = list(row.pending["model_ids"])
                row.inference_config = dict(row.pending["inference_config"])
                row.deployment_config = dict(row.pending["deployment_config"])
                row.state, row.error = HEALTHY, None
                self._link(s, row.id, row.model_ids)
            elif row.revision == 0:
                row.state, row.error = FAILED, error
                self._link(s, row.id, [])  # a failed service is not active: its models may go
            else:
                self._link(s, row.id, row.model_ids)
            row.pending = None
            row.updated_at = utcnow()
        self._changed(*names)

    def set_state(self, deployment_id: int, state: str, *, error: dict[str, Any] | None = None) -> None:
        with self.db.session() as s:
            row = s.get(DeploymentRow, deployment_id)
            if row is None or (row.state == state and row.error == error):
                return
            row.state, row.error, row.updated_at = state, error, utcnow()
            names = self._names(s, row)
        self._changed(*names)

    def set_port(self, deployment_id: int, port: int) -> None:
        with self.db.session() as s:
            row = s.get(DeploymentRow, deployment_id)
            if row is not None:
                row.port = port

    def set_image(self, deployment_id: int, image_id: str | None) -> None:
        with self.db.session() as s:
            row = s.get(DeploymentRow, deployment_id)
            if row is not None:
                row.image_id = image_id

    def delete(self, deployment_id: int) -> None:
        with self.db.session() as s:
            row = s.get(DeploymentRow, deployment_id)
            if row is None:
                return
            names = self._names(s, row)
            s.delete(row)
        self._changed(*names, action="deleted")

    # -- reading ----------------------------------------------------------------------------------------------
    def get(self, workspace: str, name: str) -> rm.Webservice:
        with self.db.read() as s:
            row = self.row(s, workspace, name)
            return self._model(s, WorkspaceService.row(s, workspace), row)

    def get_id(self, workspace: str, name: str) -> int:
        with self.db.read() as s:
            return self.row(s, workspace, name).id

    def all(self, workspace: str) -> list[rm.Webservice]:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            query = select(DeploymentRow).where(DeploymentRow.workspace_id == ws.id)
            rows = s.scalars(query.order_by(DeploymentRow.name))
            return [self._model(s, ws, r) for r in rows]

    def to_restore(self) -> list[tuple[str, str]]:
        """(workspace, name) of every service that should be running (after a restart of the service)."""
        with self.db.read() as s:
            rows = s.execute(
                select(WorkspaceRow.name, DeploymentRow.name)
                .join(WorkspaceRow, WorkspaceRow.id == DeploymentRow.workspace_id)
                .where(DeploymentRow.state != FAILED)
                .order_by(DeploymentRow.id)
            )
            return [(w, n) for w, n in rows]

    def plan(self, deployment_id: int, *, pending: bool) -> RevisionPlan:
        with self.db.read() as s:
            row = s.get(DeploymentRow, deployment_id)
            if row is None:
                raise NotFound(f"web service {deployment_id} no longer exists")
            ws = s.get(WorkspaceRow, row.workspace_id)
            assert ws is not None
            source: dict[str, Any] = (
                row.pending
                if pending and row.pending
                else {"revision": row.revision, "model_ids": row.model_ids, "inference_config": row.inference_config,
                      "deployment_config": row.deployment_config}
            )
            plans = []
            for model_id in source["model_ids"]:
                model = s.get(ModelRow, model_id)
                if model is None:
                    raise NotFound(f"a model of web service {row.name!r} was deleted", hint="update its models")
                plans.append(ModelPlan(model.id, model.name, model.version, model.path,
                                       ModelRegistry.file_list(s, model.id), model.sample_input))
            inference = source["inference_config"]
            files = s.execute(
                select(SnapshotFileRow.path, SnapshotFileRow.sha256, SnapshotFileRow.mode)
                .where(SnapshotFileRow.snapshot_id == inference["snapshot_id"])
                .order_by(SnapshotFileRow.path)
            )
            return RevisionPlan(
                deployment_id=row.id,
                workspace=ws.name,
                name=row.name,
                revision=int(source["revision"]),
                compute_type=row.compute_type,
                models=plans,
                entry_script=inference["entry_script"],
                snapshot_id=inference["snapshot_id"],
                source_files=[(p, h, m) for p, h, m in files],
                environment=dict(inference["environment"]),
                environment_hash=str(inference["environment_hash"]),
                deployment_config=dict(source["deployment_config"]),
                port=row.port,
            )

    def _model(self, s: Session, ws: WorkspaceRow, row: DeploymentRow) -> rm.Webservice:
        def refs(ids: Sequence[int]) -> list[str]:
            out = []
            for model_id in ids:
                model = s.get(ModelRow, model_id)
                out.append(f"{model.name}:{model.version}" if model else f"<deleted {model_id}>")
            return out

        base = f"http://{self.host}:{row.port}" if row.port else None
        return rm.Webservice(
            name=row.name,
            workspace=ws.name,
            compute_type=row.compute_type,
            state=cast(rm.ServiceState, row.state),
            revision=row.revision,
            models=refs(row.model_ids),
            pending_models=refs(row.pending["model_ids"]) if row.pending else None,
            scoring_uri=f"{base}/score" if base else None,
            swagger_uri=f"{base}/swagger.json" if base else None,
            port=row.port,
            auth_enabled=bool(row.deployment_config.get("auth_enabled", True)),
            inference_config=rm.InferenceConfig.model_validate(row.inference_config),
            deployment_config=rm.DeploymentConfigSpec.model_validate(row.deployment_config),
            image_id=row.image_id,
            operation=rm.Operation.model_validate(row.operation) if row.operation else None,
            error=rm.ServiceError.model_validate(row.error) if row.error else None,
            tags=dict(row.tags or {}),
            description=row.description,
            created_by=row.created_by,
            created_at=utc(row.created_at),
            updated_at=utc(row.updated_at),
        )

    # -- keys -------------------------------------------------------------------------------------------------
    def keys(self, workspace: str, name: str) -> rm.ServiceKeys:
        with self.db.read() as s:
            return self.vault.read(self.row(s, workspace, name))

    def regenerate(self, workspace: str, name: str, spec: rm.RegenerateKey) -> rm.ServiceKeys:
        with self.db.session() as s:
            row = self.row(s, workspace, name)
            keys = self.vault.replace(row, spec.key_type, spec.key_value or new_key())
            row.updated_at = utcnow()
            return keys

    def seal_plain_keys(self) -> int:
        """Seal the keys older versions stored in plain text (at start; a no-op once done)."""
        return self.vault.seal_plain()

    # -- telemetry --------------------------------------------------------------------------------------------
    def add_stats(self, deployment_id: int, minutes: Sequence[tm.MinuteStats]) -> None:
        with self.db.session() as s:
            if s.get(DeploymentRow, deployment_id) is None:
                return
            for m in minutes:
                row = s.get(EndpointStatRow, (deployment_id, m.minute))
                if row is None:
                    s.add(EndpointStatRow(deployment_id=deployment_id, minute=m.minute, requests=m.requests,
                                          errors_4xx=m.errors_4xx, errors_5xx=m.errors_5xx,
                                          latency_sum=m.latency_sum, latency_hist=list(m.hist)))
                else:
                    row.requests += m.requests
                    row.errors_4xx += m.errors_4xx
                    row.errors_5xx += m.errors_5xx
                    row.latency_sum += m.latency_sum
                    row.latency_hist = tm.merge([row.latency_hist, m.hist])

    def telemetry(self, workspace: str, name: str, *, since_minute: int = 0) -> rm.Telemetry:
        with self.db.read() as s:
            row = self.row(s, workspace, name)
            stats = list(
                s.scalars(
                    select(EndpointStatRow)
                    .where(EndpointStatRow.deployment_id == row.id, EndpointStatRow.minute >= since_minute)
                    .order_by(EndpointStatRow.minute)
                )
            )
        points = [
            rm.TelemetryPoint(
                t=datetime.fromtimestamp(st.minute * 60, timezone.utc),
                requests=st.requests,
                errors_4xx=st.errors_4xx,
                errors_5xx=st.errors_5xx,
                latency_ms_mean=(st.latency_sum / st.requests) if st.requests else None,
                latency_ms_p50=tm.percentile(st.latency_hist, 0.5),
                latency_ms_p90=tm.percentile(st.latency_hist, 0.9),
                latency_ms_p99=tm.percentile(st.latency_hist, 0.99),
            )
            for st in stats
        ]
        total = tm.merge(st.latency_hist for st in stats)
        return rm.Telemetry(
            name=name,
            requests=sum(st.requests for st in stats),
            errors_4xx=sum(st.errors_4xx for st in stats),
            errors_5xx=sum(st.errors_5xx for st in stats),
            latency_ms_p50=tm.percentile(total, 0.5),
            latency_ms_p90=tm.percentile(total, 0.9),
            latency_ms_p99=tm.percentile(total, 0.99),
            points=points,
        )
