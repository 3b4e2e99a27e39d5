"""The agent's settings, read from its environment (see jupyter_aml.runtime.env)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import env as E

from . import distributed as D

AGENT_LOG_STREAM = "agent"  # log stream of the agent's own messages and environment build output


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number of seconds, got {raw!r}") from None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class AgentConfig:
    service_url: str
    run_id: str
    token: str
    workspace: str
    experiment: str
    work_dir: Path
    env_cache: Path
    journal: Path
    environment: dict[str, Any] | None = None  # fallback spec when the run record has none
    heartbeat_interval: float = 10.0
    connect_timeout: float = 300.0  # how long the agent keeps retrying while the service is away
    drain_timeout: float = 900.0  # how long the final drain (journal, logs, outputs, status) may take
    cancel_drain_timeout: float = 15.0  # the same after a cancel
    builder: str = "auto"  # environment builder: auto (uv if on PATH), uv, pip
    agent_pythonpath: str | None = None
    # a multi-node run (agent/distributed.py): this node, node 0's address and ports, how long nodes wait
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 0  # 0: the agent picks a free one (a run on one node)
    gang_port: int = 0
    node_host: str = "127.0.0.1"
    gang_timeout: float = 600.0

    @property
    def run_dir(self) -> Path:
        """``<work>/<run id>``; node k > 0 of a multi-node run works in ``<work>/<run id>/node-<k>``."""
        base = E.run_dir(self.work_dir, self.run_id)
        return base / f"node-{self.node_rank}" if self.node_rank else base

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> AgentConfig:
        env = os.environ if environ is None else environ
        info = E.RunContextInfo.from_environ(env)
        if info is None:
            raise InvalidInput(f"the agent needs {E.RUN_ID} and {E.SERVICE_URL} in its environment")
        missing = [n for n in (E.WORKSPACE, E.WORK_DIR, E.ENV_CACHE) if not env.get(n)]
        if missing:
            raise InvalidInput(f"the agent needs {', '.join(missing)} in its environment")
        work_dir = Path(env[E.WORK_DIR]).absolute()
        spec = None
        if env.get(E.ENVIRONMENT):
            try:
                spec = json.loads(env[E.ENVIRONMENT])
            except ValueError:
                raise InvalidInput(f"{E.ENVIRONMENT} is not valid JSON") from None
        return cls(
            service_url=info.service_url,
            run_id=info.run_id,
            token=info.token,
            workspace=info.workspace,
            experiment=info.experiment,
            work_dir=work_dir,
            env_cache=Path(env[E.ENV_CACHE]).absolute(),
            journal=Path(info.journal) if info.journal else E.journal_path(work_dir, info.run_id),
            environment=spec if isinstance(spec, dict) else None,
            heartbeat_interval=_float(env, E.HEARTBEAT_INTERVAL, 10.0),
            connect_timeout=_float(env, "AML_AGENT_CONNECT_TIMEOUT", 300.0),
            drain_timeout=_float(env, "AML_AGENT_DRAIN_TIMEOUT", 900.0),
            cancel_drain_timeout=_float(env, "AML_AGENT_CANCEL_DRAIN_TIMEOUT", 15.0),
            builder=env.get("AML_ENV_BUILDER", "auto") or "auto",
            agent_pythonpath=env.get(E.AGENT_PYTHONPATH) or None,
            node_rank=_int(env, D.NODE_RANK, 0),
            master_addr=env.get(D.MASTER_ADDR) or "127.0.0.1",
            master_port=_int(env, D.MASTER_PORT, 0),
            gang_port=_int(env, D.GANG_PORT, 0),
            node_host=env.get(D.NODE_HOST) or env.get(D.MASTER_ADDR) or "127.0.0.1",
            gang_timeout=_float(env, D.GANG_TIMEOUT, 600.0),
        )
