"""Service settings: one object, read from the environment, overridable by the server's traitlets."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from jupyter_aml.core.roots import default_root, default_runs_home

MAX_CHILD_RUNS_PER_RUN = 10_000


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise ValueError(f"${name} must be a whole number, not {value!r}") from None


class ServiceSettings(BaseModel):
    """Everything the core needs to know; zero configuration gives SQLite + local files + local processes."""

    root: Path = Field(default_factory=default_root)
    # Run folders and the environment cache: outside the root, so a run's folder never leads to the
    # service's secrets (default: <root>-runs/work and <root>-runs/envs, see core/roots.py).
    runs_work_root: Path | None = None
    runs_env_cache: Path | None = None
    database_url: str | None = None  # default: sqlite:///<root>/aml.db
    auto_upgrade: bool = Field(default_factory=lambda: os.environ.get("JUPYTER_AML_AUTO_UPGRADE") == "1")
    max_upload_bytes: int = 2 * 1024**3
    max_request_bytes: int = 64 * 1024**2
    max_concurrent_large_uploads: int = 4  # uploads of 64 MiB or more at once; more answer 503 + Retry-After
    snapshot_max_files: int = 2000
    snapshot_max_bytes: int = 300 * 1024**2
    heartbeat_interval_seconds: float = 10.0
    not_responding_after_seconds: float = 60.0
    failed_after_seconds: float = 300.0
    run_token_grace_seconds: float = 900.0
    local_max_concurrent_runs: int = 2
    # Child runs (at any depth) one top-level run may have: a run's token reaches its whole subtree, so the bound
    # is per tree, or a child could start over one level down. Azure ML documents no such limit (its service
    # limits name 10 million runs per workspace); 10,000 leaves room for large HyperDrive sweeps (max_total_runs)
    # and pipelines, yet keeps one runaway or hostile script from filling the database. More answer 429.
    max_child_runs_per_run: int = Field(default=MAX_CHILD_RUNS_PER_RUN, ge=1)
    # A workspace's compute quota, as Azure has one per workspace: computes it may hold, and nodes its clusters
    # on this machine (no scheduler_address) may reach in all (the sum of their max_nodes). Each embedded
    # cluster is a process and each node a worker process, so the quota keeps one workspace from filling the
    # machine. More answer 429 QuotaExceeded, naming the setting.
    # ($JUPYTER_AML_MAX_COMPUTES_PER_WORKSPACE and $JUPYTER_AML_MAX_LOCAL_CLUSTER_NODES set them for `aml serve`.)
    max_computes_per_workspace: int = Field(default_factory=lambda: _env_int("JUPYTER_AML_MAX_COMPUTES_PER_WORKSPACE",
                                                                             20), ge=0)
    max_local_cluster_nodes: int = Field(default_factory=lambda: _env_int("JUPYTER_AML_MAX_LOCAL_CLUSTER_NODES", 32),
                                         ge=0)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.root / 'aml.db'}"

    @property
    def blob_root(self) -> Path:
        return self.root / "blobs"

    @property
    def work_root(self) -> Path:
        """Where run folders are made (``<work_root>/<run id>``); never inside the root."""
        return self.runs_work_root or default_runs_home(self.root) / "work"

    @property
    def env_cache(self) -> Path:
        """Where run environments are built and cached by spec hash; never inside the root."""
        return self.runs_env_cache or default_runs_home(self.root) / "envs"
