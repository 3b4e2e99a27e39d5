"""The environment registry: named, versioned environment definitions, identified by the hash of their spec.

Registering a definition equal to the latest version of its name returns that version; anything else
creates the next version. The hash covers what the environment *is* (Python version, pip requirements,
variables, docker base image), not its name or version, so equal environments share built artefacts.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_aml.core import registry_models as rm
from jupyter_aml.core.registry import parse_ref
from jupyter_aml.core.workspaces import WorkspaceService, utc, utcnow
from jupyter_aml.envbuild import definition_user_managed
from jupyter_aml.envbuild.curated import VERSION as CURATED_VERSION
from jupyter_aml.envbuild.curated import curated_definition, is_curated
from jupyter_aml.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from jupyter_aml.runtime.names import validate_resource_name
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import EnvironmentRow, WorkspaceRow

HASH_VERSION = 1
CURATED_AT = datetime(2026, 6, 30, tzinfo=timezone.utc)  # curated environments are as old as v1's end of support


def canonical_spec(spec: rm.EnvironmentDefinition) -> dict[str, Any]:
    """The parts of a definition that make it what it is, in a stable form."""
    conda = spec.python.conda_dependencies.model_dump(exclude={"name"}) if spec.python.conda_dependencies else None
    return {
        "python_version": spec.python_version,
        "user_managed": definition_user_managed(spec.python.user_managed, spec.python.pip, conda),
        "interpreter_path": spec.python.interpreter_path,
        "pip": [p.strip() for p in spec.python.pip if p.strip()],
        "env_vars": dict(sorted(spec.env_vars.items())),
        "docker_base_image": spec.docker_base_image,
        # only when set, so the hash of every definition registered before Docker runs existed stays the same
        **({"docker_enabled": True} if spec.docker_enabled else {}),
        **({"docker_shm_size": spec.docker_shm_size} if spec.docker_shm_size else {}),
        **({"conda": conda} if conda else {}),
        **({"docker_base_dockerfile": spec.docker_base_dockerfile} if spec.docker_base_dockerfile else {}),
    }


def spec_hash(spec: rm.EnvironmentDefinition) -> str:
    body = json.dumps({"v": HASH_VERSION, **canonical_spec(spec)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


class EnvironmentRegistry:
    def __init__(self, db: Store, *, env_cache: Path | None = None) -> None:
        self.db = db
        self.env_cache = env_cache  # where built venvs are cached by the hash of their requirements

    def register(self, workspace: str, spec: rm.EnvironmentDefinition) -> rm.RegisteredEnvironment:
        validate_resource_name(spec.name, "environment")  # stored as given: never trimmed or rewritten
        if spec.name.startswith("AzureML-"):
            raise InvalidInput(
                f"environment name {spec.name!r} is reserved for curated environments", hint="pick your own name"
            )
        digest = spec_hash(spec)
        for _attempt in range(5):
            try:
                with self.db.session() as s:
                    ws = WorkspaceService.row(s, workspace)
                    latest = self._latest(s, ws, spec.name)
                    if latest is not None and latest.spec_hash == digest:
                        return self._model(ws, latest)
                    row = EnvironmentRow(
                        workspace_id=ws.id,
                        name=spec.name,
                        version=(latest.version if latest else 0) + 1,
                        spec=spec.model_dump(mode="json", exclude={"version"}),
                        spec_hash=digest,
                        created_at=utcnow(),
                    )
                    s.add(row)
                    s.flush()
                    return self._model(ws, row)
            except IntegrityError:
                continue  # registered concurrently: read again
        raise Conflict(f"could not register environment {spec.name!r}: too many concurrent registrations")

    @staticmethod
    def _latest(s: Session, ws: WorkspaceRow, name: str) -> EnvironmentRow | None:
        return s.scalar(
            select(EnvironmentRow)
            .where(EnvironmentRow.workspace_id == ws.id, EnvironmentRow.name == name)
            .order_by(EnvironmentRow.version.desc())
            .limit(1)
        )

    def get(self, workspace: str, name: str, version: int | None = None) -> rm.RegisteredEnvironment:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            if is_curated(name):
                return curated(ws, name, version)
            return self._model(ws, self.row(s, ws, name, version))

    @staticmethod
    def row(s: Session, ws: WorkspaceRow, name: str, version: int | None = None) -> EnvironmentRow:
        query = select(EnvironmentRow).where(EnvironmentRow.workspace_id == ws.id, EnvironmentRow.name == name)
        if version is not None:
            query = query.where(EnvironmentRow.version == version)
        row = s.scalar(query.order_by(EnvironmentRow.version.desc()).limit(1))
        if row is None:
            what = f"environment {name!r}" + (f" version {version}" if version is not None else "")
            raise NotFound(f"{what} not found in workspace {ws.name!r}", hint="register it first")
        return row

    @classmethod
    def resolve(cls, s: Session, ws: WorkspaceRow, ref: str) -> rm.RegisteredEnvironment:
        """``name`` or ``name:version``, inside the caller's session."""
        name, version = parse_ref(ref)
        if is_curated(name):
            return curated(ws, name, version)
        return cls._model(ws, cls.row(s, ws, name, version))

    def all(self, workspace: str, *, name: str | None = None, latest: bool = False) -> list[rm.RegisteredEnvironment]:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            query = select(EnvironmentRow).where(EnvironmentRow.workspace_id == ws.id)
            if name:
                query = query.where(EnvironmentRow.name == name)
            rows = list(s.scalars(query.order_by(EnvironmentRow.name, EnvironmentRow.version.desc())))
            if latest:
                seen: set[str] = set()
                rows = [r for r in rows if not (r.name in seen or seen.add(r.name))]  # type: ignore[func-returns-value]
            return [self._model(ws, r) for r in rows]

    def build(self, workspace: str, name: str, version: int) -> rm.EnvironmentBuild:
        """Build one version's Python now (blocking), with the same builder and cache that runs and local web
        services use, so their next start reuses it."""
        from jupyter_aml.envbuild.container import docker_settings, prepare_image
        from jupyter_aml.envbuild.venv import EnvBuildError, interpreter_spec, prepare_environment

        if self.env_cache is None:
            raise ServiceUnavailable("this service has no environment cache to build into")
        registered = self.get(workspace, name, version)
        lines: list[str] = []
        started = time.monotonic()
        try:
            definition = registered.spec.model_dump(mode="json")
            docker = docker_settings(definition)
            if docker is not None:  # docker.enabled: the image Docker runs of this environment start
                image = prepare_image(definition, docker, self.env_cache, log=lines.append)
                return rm.EnvironmentBuild(
                    environment=f"{registered.name}:{registered.version}", python=image.python,
                    venv_hash=image.spec_hash, built=image.built, seconds=round(time.monotonic() - started, 3),
                    log=lines[-200:], image=image.image)
            spec = interpreter_spec(definition)
            prepared = prepare_environment(spec, self.env_cache, log=lines.append)
        except EnvBuildError as exc:
            last = [line.strip() for line in exc.tail.splitlines() if line.strip()][-3:]
            raise InvalidInput(
                f"environment {registered.name}:{registered.version} could not be built: {exc.message}"
                + ("\n" + "\n".join(last) if last else ""),
                hint="fix its packages, Python version or Docker settings and register it again",
                details={"log": [*lines, *exc.tail.splitlines()][-200:]},
            ) from None
        return rm.EnvironmentBuild(
            environment=f"{registered.name}:{registered.version}", python=prepared.python,
            venv_hash=prepared.spec_hash, built=prepared.built, seconds=round(time.monotonic() - started, 3),
            log=lines[-200:])

    @staticmethod
    def _model(ws: WorkspaceRow, row: EnvironmentRow) -> rm.RegisteredEnvironment:
        spec = rm.EnvironmentDefinition.model_validate({**row.spec, "version": str(row.version)})
        return rm.RegisteredEnvironment(
            name=row.name,
            version=row.version,
            workspace=ws.name,
            spec_hash=row.spec_hash,
            spec=spec,
            created_at=utc(row.created_at),
        )


def curated(ws: WorkspaceRow, name: str, version: int | None) -> rm.RegisteredEnvironment:
    """A curated environment (envbuild/curated.py), which every workspace has without registering it."""
    definition = curated_definition(name)
    if definition is None or version not in (None, CURATED_VERSION):
        what = f"curated environment {name!r}" + (f" version {version}" if version is not None else "")
        raise NotFound(f"{what} does not exist", hint="Environment.list(ws) shows the curated environments (and other "
                       "versions of their families are found too); GPU ones are not: these machines have none")
    spec = rm.EnvironmentDefinition.model_validate({**definition, "version": str(CURATED_VERSION)})
    return rm.RegisteredEnvironment(name=name, version=CURATED_VERSION, workspace=ws.name, spec_hash=spec_hash(spec),
                                    spec=spec, created_at=CURATED_AT)
