"""The Jupyter server extension: builds the application object (``jupyter_aml.app``) from config and
serves its REST routes.

``aml serve`` launches this same ExtensionApp on a plain Jupyter server with a bearer token. The root,
database URL, compute targets and timings are ``c.AMLExtension.*``; which classes play the scheduler, blob
store, deployment manager and store is ``c.AMLApplication.*``.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from traitlets import Bool, Dict, Float, Int, List, Unicode, validate

from jupyter_aml.app import AMLApplication
from jupyter_aml.core.roots import PRIVATE_FILE, default_root, make_private_dir
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.mlflow_api import routes as mlflow_routes
from jupyter_aml.server import events as events_routes
from jupyter_aml.server.authz import IDENTITY_MODES, Identity
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes import computes as computes_routes
from jupyter_aml.server.routes import datasets as datasets_routes
from jupyter_aml.server.routes import datastores as datastores_routes
from jupyter_aml.server.routes import endpoints, environments, files, images, metrics, models, runs, workspaces
from jupyter_aml.server.routes import pipeline_endpoints as pipeline_endpoints_routes
from jupyter_aml.server.routes import pipelines as pipelines_routes
from jupyter_aml.server.routes import run_data as run_data_routes
from jupyter_aml.server.routes import secrets as secrets_routes

API_PREFIX = "aml/api/v1"


def all_routes() -> list[tuple[str, type]]:
    return [
        *workspaces.ROUTES,
        *computes_routes.ROUTES,
        *runs.ROUTES,
        *metrics.ROUTES,
        *files.ROUTES,
        *events_routes.ROUTES,
        *models.ROUTES, *environments.ROUTES, *endpoints.ROUTES, *images.ROUTES,
        *datastores_routes.ROUTES,
        *datasets_routes.ROUTES,
        *secrets_routes.ROUTES,
        *run_data_routes.ROUTES,
        *pipelines_routes.ROUTES,
        *pipeline_endpoints_routes.ROUTES,
        (r"/openapi.json", OpenAPIHandler),
        (r"/health", HealthHandler),
    ]


class OpenAPIHandler(AMLHandler):
    @api("user", "This document", action="service/read")
    async def get(self) -> None:
        from jupyter_aml import __version__
        from jupyter_aml.server.openapi import build_openapi

        self.reply(build_openapi(all_routes(), __version__))


class HealthHandler(AMLHandler):
    @api("user", "Service health and versions", action="service/read")
    async def get(self) -> None:
        from jupyter_aml import __version__

        self.reply({"status": "ok", "version": __version__, "root": str(self.app.settings.root)})


def load_service_token(root: Path) -> str:
    """The service's bearer token (``<root>/service-token``, 0600 in the 0700 root). It is not the Jupyter
    server's token: it opens this extension's API only, never kernels or contents."""
    path = root / "service-token"
    try:
        token = path.read_text().strip()
        if stat.S_IMODE(path.stat().st_mode) != PRIVATE_FILE:
            path.chmod(PRIVATE_FILE)  # left loose by an older version
        return token
    except FileNotFoundError:
        token = "amls." + secrets.token_urlsafe(32)
        make_private_dir(root)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token)
        return token


class AMLExtension(ExtensionApp):
    name = "jupyter_aml"
    description = "jupyter-aml workspace service"
    load_other_extensions = True

    root = Unicode(str(default_root()), help="Folder holding the database, blobs, environments and run folders.").tag(
        config=True
    )
    database_url = Unicode("", help="SQLAlchemy URL; empty means SQLite in the root folder.").tag(config=True)
    computes = List(
        Dict(),
        default_value=[],
        help='Compute targets, e.g. [{"name": "local", "type": "local", '
        '"max_concurrent_runs": 2}]. The local target always exists.',
    ).tag(config=True)
    max_concurrent_runs = Int(2, help="Concurrency of the built-in local compute target.").tag(config=True)
    vm_sizes = List(
        Dict(),
        default_value=[],
        help='Custom VM sizes for computes, beside v1\'s, e.g. [{"name": "SMALL", "vCPUs": 0.5, "memoryGB": 1}] '
        "(docs/compute.md).",
    ).tag(config=True)
    max_child_runs_per_run = Int(10_000, help="Child runs (at any depth) one top-level run may have; more answer "
                                 "429 QuotaExceeded.").tag(config=True)
    heartbeat_interval = Float(10.0, help="Seconds between run agent heartbeats.").tag(config=True)
    not_responding_after = Float(60.0, help="Silence (s) before a run shows NotResponding.").tag(config=True)
    failed_after = Float(300.0, help="Silence (s) before a NotResponding run is marked Failed.").tag(config=True)
    auto_upgrade = Bool(False, help="Upgrade an out-of-date database schema at start.").tag(config=True)
    work_root = Unicode("", help="Folder of the local run folders; empty: <root>-runs/work, beside (never inside) "
                        "the root.").tag(config=True)
    env_cache = Unicode("", help="Folder of the cached run environments; empty: <root>-runs/envs.").tag(config=True)
    runner = Unicode("auto", help="How local runs start (docs/isolation.md): auto (bubblewrap if it works, else "
                     "same-user with a warning), bubblewrap, user (as run_as, via setpriv), same-user. A compute "
                     'target may set its own "runner".').tag(config=True)
    run_as = Unicode("", help="The Unix user of the 'user' runner.").tag(config=True)
    runner_hidden_paths = List(Unicode(), default_value=[], help="More paths the bubblewrap runner hides from "
                               "runs (the root, home, /tmp and Jupyter's runtime/config folders always are).").tag(
        config=True)

    users = Unicode("auto", help="Who Jupyter's users are to the workspace service (docs/sharing.md): single (one "
                    "local user, an administrator: a personal JupyterLab), jupyter (each Jupyter/JupyterHub user by "
                    "name, deciding by workspace roles), or auto (jupyter under JupyterHub, else single).").tag(
        config=True)
    admins = List(Unicode(), default_value=[], help="Users who act as Owner of every workspace (under JupyterHub the "
                  "server's owner always does).").tag(config=True)

    @validate("users")
    def _check_users(self, proposal: Any) -> str:
        if proposal["value"] not in IDENTITY_MODES:
            raise ValueError(f"unknown users mode {proposal['value']!r}; valid: {', '.join(IDENTITY_MODES)}")
        return str(proposal["value"])

    @validate("runner")
    def _check_runner(self, proposal: Any) -> str:
        from jupyter_aml.compute.runners import RUNNER_NAMES

        if proposal["value"] not in RUNNER_NAMES:
            raise ValueError(f"unknown runner {proposal['value']!r}; valid runners: {', '.join(RUNNER_NAMES)}")
        return str(proposal["value"])

    classes = [AMLApplication]

    # ``aml serve`` sets this: a service that cannot start (bad configuration, e.g. an unknown runner) exits
    # non-zero with the reason instead of serving nothing. Inside JupyterLab the lab keeps running.
    die_on_failure = False

    def initialize_settings(self) -> None:
        try:
            self._initialize_settings()
        except Exception as exc:
            if not self.die_on_failure:
                raise
            self._die(exc)

    def _die(self, exc: BaseException) -> None:
        import sys

        self.log.critical("jupyter-aml service could not start: %s", exc, exc_info=exc)
        sys.stderr.flush()
        os._exit(1)

    def _initialize_settings(self) -> None:
        root = Path(os.environ.get("JUPYTER_AML_ROOT") or self.root).expanduser()
        settings = ServiceSettings(
            root=root,
            database_url=self.database_url or None,
            auto_upgrade=self.auto_upgrade or os.environ.get("JUPYTER_AML_AUTO_UPGRADE") == "1",
            heartbeat_interval_seconds=self.heartbeat_interval,
            not_responding_after_seconds=self.not_responding_after,
            failed_after_seconds=self.failed_after,
            local_max_concurrent_runs=self.max_concurrent_runs,
            max_child_runs_per_run=self.max_child_runs_per_run,
            runs_work_root=Path(self.work_root).expanduser() if self.work_root else None,
            runs_env_cache=Path(self.env_cache).expanduser() if self.env_cache else None,
        )
        if "JUPYTER_AML_MAX_UPLOAD_BYTES" in os.environ:
            settings.max_upload_bytes = int(os.environ["JUPYTER_AML_MAX_UPLOAD_BYTES"])
        self.service_token = load_service_token(root)
        assert self.serverapp is not None
        base = self.serverapp.base_url
        self.service_url = f"http://127.0.0.1:{self.serverapp.port}{url_path_join(base, API_PREFIX)}"
        # parent=self: c.AMLApplication.* from the server's config reaches the application object
        defaults = self._with_runner({}, root)  # computes created in a workspace sandbox runs as local ones do
        self.app = AMLApplication(settings, parent=self).open(computes=self._compute_specs(root),
                                                               service_url=self.service_url,
                                                               vm_sizes=list(self.vm_sizes),
                                                               target_defaults=defaults)
        self.settings.update(
            {
                "aml_app": self.app,
                "aml_service_token": self.service_token,
                "aml_identity": self._identity(),
            }
        )

    def _identity(self) -> Identity:
        identity = Identity.configured(self.users, set(self.admins))
        if identity.mode == "jupyter" and not os.environ.get("JUPYTERHUB_USER"):
            self.log.warning("jupyter-aml: users = 'jupyter' outside JupyterHub: each user is the name Jupyter's "
                             "identity provider gives; the default one names token logins at random, so give the "
                             "server an identity provider with stable names (docs/security.md)")
        return identity

    def _compute_specs(self, root: Path) -> list[dict[str, Any]]:
        """The configured compute targets, with the built-in local target first. Local-process targets get the
        runner settings; the paths a sandbox hides (root, Jupyter's runtime and config folders) are a deny list,
        never a mount: no backend gets a path under the root to use."""
        specs = [c for c in self.computes if c.get("name") != "local"]
        specs.insert(
            0,
            {
                "name": "local",
                "type": "local",
                "max_concurrent_runs": self.max_concurrent_runs,
                "heartbeat_interval": self.heartbeat_interval,
                **next((c for c in self.computes if c.get("name") == "local"), {}),
            },
        )
        for spec in specs:  # a configured cluster keeps its host's files with the workspaces' computes
            if spec.get("type") == "AmlCompute":
                spec.setdefault("state_dir", str(root / "computes" / "_configured" / str(spec.get("name"))))
        return [self._with_runner(spec, root) if spec.get("type", "local") in ("local", "AmlCompute") else spec
                for spec in specs]

    def _with_runner(self, spec: dict[str, Any], root: Path) -> dict[str, Any]:
        from jupyter_core.paths import jupyter_config_dir, jupyter_runtime_dir

        assert self.serverapp is not None
        protected = [str(root), jupyter_runtime_dir(), jupyter_config_dir(), self.serverapp.runtime_dir,
                     *self.serverapp.config_file_paths, *self.runner_hidden_paths]
        defaults: dict[str, Any] = {"runner": self.runner, "run_as": self.run_as or None}
        return {**defaults, **spec, "protected_paths": [*protected, *spec.get("protected_paths", [])]}

    def initialize_handlers(self) -> None:
        self.handlers.extend((f"/{API_PREFIX}{pattern}", handler) for pattern, handler in all_routes())
        self.handlers.extend(mlflow_routes.ROUTES)  # MLflow's REST API: /aml/mlflow/... (docs/mlflow.md)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        try:
            await self.app.start()
        except Exception as exc:
            if not self.die_on_failure:
                raise
            self._die(exc)
        self._write_runtime_file()
        self.log.info("jupyter-aml: workspace service at %s (root %s)", self.service_url, self.app.settings.root)

    def _runtime_file(self) -> Path:
        return self.app.settings.root / "service.json"

    def _write_runtime_file(self) -> None:
        """Lets SDK clients on this machine (notebook kernels, the CLI) find the service and its token. The pid,
        resolved root and version let a client refuse a file left by a killed service, copied from another
        root, or written by another environment's incompatible version (``jupyter_aml.sdk.connect.discover``)."""
        from jupyter_aml import __version__

        path = self._runtime_file()
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"url": self.service_url, "token": self.service_token, "pid": os.getpid(),
                       "root": str(self.app.settings.root.resolve()), "version": __version__}, handle)
        os.replace(tmp, path)

    async def stop_extension(self) -> None:
        await self.app.stop()
        try:
            info = json.loads(self._runtime_file().read_text())
            if info.get("pid") == os.getpid():
                self._runtime_file().unlink()
        except (FileNotFoundError, ValueError):
            pass
