"""The contract every compute backend (local process, docker, dask, ...) implements.

The service's run queue owns admission (concurrency limits) and calls ``start``; the backend launches
the run agent (``python -m jupyter_aml.agent``) on its target and reports the agent's exit through
``on_exit``. Everything else (status, logs, metrics, outputs) flows from the agent over REST.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


@dataclass(frozen=True)
class RunJob:
    """Everything a backend needs to launch the agent for one run."""

    run_id: str
    workspace: str
    experiment: str
    service_url: str  # base URL of the REST API root, e.g. http://127.0.0.1:8888/aml/api/v1
    run_token: str
    work_root: Path  # backend may create <work_root>/<run_id> as the run's working folder
    env_cache: Path  # where environments are built and cached by spec hash
    environment: dict[str, Any] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)


ExitCallback = Callable[[str, int | None], Awaitable[None]]


class ComputeBackend(abc.ABC):
    """A compute target type. One instance per configured compute target."""

    type_name: ClassVar[str]

    def __init__(self, name: str, *, max_concurrent_runs: int = 2, **settings: Any) -> None:
        self.name = name
        self.max_concurrent_runs = max_concurrent_runs
        self.settings = settings

    @abc.abstractmethod
    async def start(self, job: RunJob, on_exit: ExitCallback) -> dict[str, Any]:
        """Launch the agent for ``job`` and return at once with agent info to persist (e.g. a pid)."""

    @abc.abstractmethod
    async def cancel(self, run_id: str) -> None:
        """Stop the run's whole process tree. Must be safe to call for a run that already ended."""

    async def kill(self, run_id: str) -> None:
        """Stop the run's whole process tree now: its agent stopped answering, so no grace period is owed.

        The default is ``cancel``; a backend whose cancel first waits for the agent overrides this.
        """
        await self.cancel(run_id)

    @abc.abstractmethod
    async def is_alive(self, run_id: str, agent_info: dict[str, Any]) -> bool:
        """After a service restart: is something still running this run?"""

    async def reattach(self, run_id: str, agent_info: dict[str, Any], on_exit: ExitCallback) -> bool:
        """After a service restart: watch a still-running agent and call ``on_exit`` when it ends.

        Returns False if nothing runs the run any more. The default only checks ``is_alive``, for
        backends whose agents report their end through the service alone.
        """
        return await self.is_alive(run_id, agent_info)

    async def shutdown(self) -> None:  # noqa: B027 - optional hook
        """Release resources when the service stops (runs keep going where the target allows)."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type_name, "max_concurrent_runs": self.max_concurrent_runs}
