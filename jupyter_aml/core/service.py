"""The workspace service: one object that owns the store and the resource services.

It knows no server: ``jupyter_aml.app.AMLApplication`` chooses the store and blob store by configuration
and hands them in; without them it opens SQLite (or the configured URL) and local blobs itself.
"""

from __future__ import annotations

from jupyter_aml.core.compute_records import ComputeRecords
from jupyter_aml.core.datasets import DatasetRegistry
from jupyter_aml.core.datastores import DatastoreService
from jupyter_aml.core.deployments import DeploymentStore
from jupyter_aml.core.endpoint_test import EndpointTester
from jupyter_aml.core.environments import EnvironmentRegistry
from jupyter_aml.core.events import Event, EventSink, discard
from jupyter_aml.core.files import FileService
from jupyter_aml.core.folders import FolderRuns
from jupyter_aml.core.gc import GarbageCollector
from jupyter_aml.core.images import ImageRegistry
from jupyter_aml.core.keyvault import KeyVault
from jupyter_aml.core.metrics import MetricService
from jupyter_aml.core.principals import RunPrincipals
from jupyter_aml.core.registry import ModelRegistry
from jupyter_aml.core.runs import RunService
from jupyter_aml.core.secretbox import SecretBox
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.core.sharing import Sharing
from jupyter_aml.core.tokens import RunTokens, load_or_create_secret
from jupyter_aml.core.workspaces import WorkspaceService
from jupyter_aml.store.blobs import BlobStore, LocalBlobStore
from jupyter_aml.store.db import Database, Store


class AMLService:
    def __init__(
        self, settings: ServiceSettings | None = None, *, blobs: BlobStore | None = None, store: Store | None = None
    ) -> None:
        self.settings = settings or ServiceSettings()
        self.settings.root.mkdir(parents=True, exist_ok=True)
        self.db = store or Database(self.settings.db_url, auto_upgrade=self.settings.auto_upgrade)
        self.blobs = blobs or LocalBlobStore(self.settings.blob_root)
        self.secrets = SecretBox.for_root(self.settings.root)  # outside the database: see core/secretbox.py
        self.keyvault = KeyVault(self.db, self.secrets)  # each workspace's secrets, sealed with it
        self.datastores = DatastoreService(self.db, self.keyvault, self.settings.root)  # credentials in the vault
        self.datasets = DatasetRegistry(self.db, self.datastores.location)  # datastore paths: their locations
        self.tokens = RunTokens(load_or_create_secret(self.settings.root / "run-token.key"))
        self.principals = RunPrincipals(self.db, self.tokens, grace_seconds=self.settings.run_token_grace_seconds)
        self._sinks: list[EventSink] = []
        self.workspaces = WorkspaceService(self.db)
        self.sharing = Sharing(self.db)
        self.runs = RunService(self.db, self._publish)
        self.runs.max_child_runs_per_run = self.settings.max_child_runs_per_run
        self.metrics = MetricService(self.db, self.runs, self._publish)
        self.files = FileService(self.db, self.blobs, self._publish)
        self.models = ModelRegistry(self.db, self.blobs, self._publish)
        self.environments = EnvironmentRegistry(self.db, env_cache=self.settings.env_cache)
        self.deployments = DeploymentStore(self.db, self.environments, box=self.secrets, events=self._publish)
        self.deployments.seal_plain_keys()  # rows written before keys were sealed (a no-op once done)
        self.images = ImageRegistry(self.db)
        self.endpoint_tests = EndpointTester(self.deployments)
        self.gc = GarbageCollector(self.db, self.blobs)
        self.folder_runs = FolderRuns(self.files, self.settings)
        self.compute_records = ComputeRecords(self.db, self._publish)

    def subscribe(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def publish(self, workspace: str, event: Event) -> None:
        """Hand an event to every subscriber (the push channel); parts built outside the core use this."""
        self._publish(workspace, event)

    def _publish(self, workspace: str, event: Event) -> None:
        for sink in self._sinks or [discard]:
            sink(workspace, event)

    def close(self) -> None:
        self.db.dispose()
