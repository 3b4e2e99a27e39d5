"""The application object: one place that builds and owns the parts of a running workspace service.

The REST extension (``AMLExtension``, also behind ``aml serve``) and the CLI's admin commands build it;
handlers reach it typed as ``self.app``. Which class plays each part is configuration, not code::

    c.AMLApplication.scheduler_class = "mypkg.MyScheduler"            # the run queue
    c.AMLApplication.blob_store_class = "mypkg.S3BlobStore"           # content-addressed blobs
    c.AMLApplication.deployment_manager_class = "mypkg.MyDeployments"  # web services
    c.AMLApplication.store_class = "mypkg.MyStore"                    # the database seam

Everything else (root folder, database URL, compute targets, timings) stays on ``c.AMLExtension``.
Constructing the object opens nothing: ``open()`` opens the database and builds the parts, ``start()``
and ``stop()`` run their background work, so the CLI can ask about the schema without opening it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traitlets import Type
from traitlets.config import LoggingConfigurable

from jupyter_aml.core import models
from jupyter_aml.core.known_roots import remember
from jupyter_aml.core.roots import create_private_file, make_private_dir, secure_root
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.errors import AMLError, InvalidInput
from jupyter_aml.store.blobs import BlobStore, LocalBlobStore
from jupyter_aml.store.db import Database, Store, schema_status, upgrade

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from jupyter_aml.core.scheduler import Scheduler
    from jupyter_aml.core.service import AMLService
    from jupyter_aml.core.sharing import Sharing
    from jupyter_aml.server.events import EventHub
    from jupyter_aml.serving.manager import DeploymentManager


class AMLApplication(LoggingConfigurable):
    scheduler_class = Type(
        default_value="jupyter_aml.core.scheduler.Scheduler",
        klass="jupyter_aml.core.scheduler.Scheduler",
        help="The run queue: admission per compute target, cancel, restart reconciliation, heartbeat monitor.",
    ).tag(config=True)
    blob_store_class = Type(
        default_value=LocalBlobStore, klass=BlobStore,
        help="Where file contents are stored, by sha256; constructed with the blob folder (<root>/blobs).",
    ).tag(config=True)
    deployment_manager_class = Type(
        default_value="jupyter_aml.serving.manager.DeploymentManager",
        klass="jupyter_aml.serving.manager.DeploymentManager",
        help="Runs web services (real-time endpoints) and keeps their records true.",
    ).tag(config=True)
    store_class = Type(
        default_value=Database, klass=Store,
        help="The database behind the core services (SQLite or PostgreSQL); constructed with (url, auto_upgrade=...).",
    ).tag(config=True)

    def __init__(self, settings: ServiceSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self._opened = False

    # -- the database schema (no services needed) ------------------------------------------------------------
    @classmethod
    def for_database(cls, root: Path | None = None, database_url: str | None = None) -> AMLApplication:
        """The application of a root folder and database URL, for the admin commands (``aml db ...``)."""
        from jupyter_aml.core.roots import default_root

        app = cls(ServiceSettings(root=root or default_root(), database_url=database_url or None))
        app.database_shown()  # a URL that does not parse is refused here, before anything is opened
        return app

    def database_shown(self) -> str:
        """The database URL with its password hidden, fit for output."""
        return self._parsed_url().render_as_string(hide_password=True)

    def _parsed_url(self) -> URL:
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.settings.db_url)
        except Exception as exc:  # sqlalchemy.exc.ArgumentError
            raise InvalidInput(f"{self.settings.db_url!r} is not a database URL: {exc}",
                               hint="e.g. sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB") from None

    def sqlite_file(self) -> Path | None:
        parsed = self._parsed_url()
        return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None

    def schema_status(self) -> tuple[str | None, str | None, bool]:
        """(current revision, head revision, whether the database exists); creates nothing."""
        with _database_errors():
            return schema_status(self.settings.db_url, self.sqlite_file())

    def upgrade_schema(self) -> None:
        sqlite_file = self.sqlite_file()
        if sqlite_file is not None:
            make_private_dir(sqlite_file.parent)
            create_private_file(sqlite_file)
        with _database_errors():
            upgrade(self.settings.db_url)

    def sharing(self) -> Sharing:
        """The sharing records alone (named user tokens for ``aml token ...``), without building the service."""
        from jupyter_aml.core.sharing import Sharing

        with _database_errors():
            return Sharing(self.store_class(self.settings.db_url, auto_upgrade=self.settings.auto_upgrade))

    # -- the running service ------------------------------------------------------------------------------------
    def open(self, *, computes: list[dict[str, Any]] | None = None, service_url: str = "",
             vm_sizes: list[dict[str, Any]] | None = None,
             target_defaults: dict[str, Any] | None = None) -> AMLApplication:
        """Open the store and build every part. ``service_url`` is where run agents reach this service;
        ``computes`` are the configured targets, ``vm_sizes`` the custom sizes, ``target_defaults`` the runner
        settings every compute created in a workspace gets (as the local target does)."""
        from jupyter_aml.compute.registry import build_backends
        from jupyter_aml.core.computes import ComputeService
        from jupyter_aml.core.hyperdrive import HyperDriveService
        from jupyter_aml.core.pipeline_publish import PublishService
        from jupyter_aml.core.pipelines import PipelineService
        from jupyter_aml.core.run_data import RunData
        from jupyter_aml.core.schedules import ScheduleService
        from jupyter_aml.core.service import AMLService
        from jupyter_aml.server.events import EventHub
        from jupyter_aml.serving.backends import launcher_types

        settings = self.settings
        self._secure_folders()
        store = self.store_class(settings.db_url, auto_upgrade=settings.auto_upgrade)
        self.service: AMLService = AMLService(settings, blobs=self.blob_store_class(settings.blob_root), store=store)
        self.events: EventHub = EventHub()
        self.service.subscribe(self.events.publish)
        backends = build_backends(computes or [{"name": "local", "type": "local"}])
        self.scheduler: Scheduler = self.scheduler_class(self.service, backends, service_url)
        self.hyperdrive = HyperDriveService(self.service, self.scheduler)  # sweeps: core/hyperdrive.py
        self.run_data = RunData(self.service, self.scheduler)  # datasets in runs: core/run_data.py
        self.pipelines = PipelineService(self.service, self.scheduler)  # ML pipelines: core/pipelines.py
        self.published = PublishService(self.service, self.pipelines)  # published pipelines, endpoints
        self.schedules = ScheduleService(self.published)  # pipeline schedules: core/schedules.py
        self.computes: ComputeService = ComputeService(
            self.service.compute_records, self.scheduler, state_root=settings.root / "computes",
            events=self.service.publish, vm_sizes=vm_sizes, target_defaults=target_defaults, settings=settings)
        self.deployments: DeploymentManager = self.deployment_manager_class(self.service)
        self.deployments.use_runner_of(backends)  # local replicas start as local runs do
        self.service.gc.prune_images = self.deployments.prune_images  # who builds scoring images prunes them
        self.service.deployments.compute_types = launcher_types  # deploys name only installed launchers
        secure_root(settings.root)  # and what the parts just created in it
        self._opened = True
        return self

    def _secure_folders(self) -> None:
        """The root is the service's alone (0700, files 0600; older roots tightened); the SQLite file is made
        0600 before SQLite opens it, so its -wal and -shm files get 0600 too. Run folders live outside."""
        settings = self.settings
        for what, folder in (("work_root", settings.work_root), ("env_cache", settings.env_cache)):
            if folder.resolve().is_relative_to(settings.root.resolve()):
                raise InvalidInput(f"{what} {folder} is inside the service's root {settings.root}",
                                   hint="runs must never reach the root: pick a folder outside it (the default is "
                                   "<root>-runs beside it)")
        secure_root(settings.root)
        sqlite_file = self.sqlite_file()
        if sqlite_file is not None:
            make_private_dir(sqlite_file.parent)
            create_private_file(sqlite_file)
        for folder in (settings.work_root, settings.env_cache):
            make_private_dir(folder)
        remember(settings.root, settings.work_root)  # so other services' sandboxes hide them too

    async def start(self) -> None:
        """Resume what the last process left (computes, queued runs, web services) and start the monitors."""
        await self.computes.start()
        await self.scheduler.reconcile()
        self.scheduler.start_monitor()
        await self.hyperdrive.start()  # after reconcile: the sweeps' children are back in their queues
        await self.pipelines.start()  # likewise the pipelines' steps
        await self.schedules.start()  # after the pipelines: a missed tick fires once, now
        self.run_data.start()
        await self.deployments.start()

    async def submit_folder(
        self, workspace: str, spec: models.FolderRunCreate, *, server_root: Path, submitter: str
    ) -> models.Run:
        """Submit a folder on this machine (relative to ``server_root``) as a run: checked first (workspace,
        compute target), then snapshotted in a worker thread, then queued."""
        await asyncio.to_thread(self.service.workspaces.get, workspace)
        self.scheduler.check_target(workspace, spec.run_config.compute_target)
        create = await asyncio.to_thread(self.service.folder_runs.run_spec, spec, server_root)
        return await self.scheduler.submit(workspace, create, submitter=submitter)

    async def stop(self) -> None:
        if not self._opened:
            return
        await self.schedules.stop()
        await self.hyperdrive.stop()
        await self.pipelines.stop()
        self.run_data.stop()
        await self.computes.shutdown()
        await self.scheduler.shutdown()
        await self.deployments.stop()
        self.service.close()
        self._opened = False


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """Driver and migration errors become one readable error, like the SDK's errors."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except (SQLAlchemyError, CommandError) as exc:
        raise AMLError(
            f"database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}",
            hint="check --url/--root; for a URL with credentials make sure the server is reachable",
        ) from None
    except ImportError as exc:  # the URL's driver is not installed (e.g. psycopg for postgresql://)
        raise AMLError(
            f"no database driver for this URL: {exc}",
            hint=f"install it into this environment, e.g. `pip install {exc.name or 'DRIVER'}`",
        ) from None
