"""What every part of ``Run`` shares: its identity, its cached record and the way to the service.

``Run`` is assembled from parts by what they do (``run_files``, ``run_metrics``, ``run_watch``); each
part subclasses ``RunBase`` and reaches the service only through ``self._api`` and ``self._ws``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import Api

if TYPE_CHECKING:
    from jupyter_aml.runtime.journal import JournalWriter
    from jupyter_aml.sdk.experiment import Experiment


class Shipper(Protocol):
    """What a run needs from the session that ships an interactive run's journal."""

    run_id: str
    ended: str | None  # why the service no longer takes this run's values (canceled elsewhere), else None

    @property
    def stopped(self) -> bool: ...

    def flush(self, timeout_seconds: float = 300) -> None: ...

    def finish(self, report: Callable[[T.JournalBatch | None], T.Run]) -> T.Run:
        """Report a final status (``report(journal)``, the last records riding along) and end the session."""
        ...

    def stop(self) -> None: ...


class RunBase:
    experiment: Experiment
    id: str
    _details: T.Run | dict[str, Any] | None
    _journal: JournalWriter | None
    _shipper: Shipper | None

    @property
    def _api(self) -> Api:
        return self.experiment.workspace._api

    @property
    def _ws(self) -> str:
        return self.experiment.workspace.name

    @property
    def _client(self) -> Any:
        """The transport, for older tests that call REST directly; product code uses ``_api``."""
        return self.experiment.workspace._client

    def _path(self, *parts: str) -> str:
        """A REST path, for older tests that call REST directly; product code uses ``_api``."""
        from jupyter_aml.runtime.api import build_path

        base = build_path("/workspaces/{workspace}/runs/{run_id}", workspace=self._ws, run_id=self.id)
        return "/".join([base.lstrip("/"), *parts])

    def _refresh(self) -> dict[str, Any]:
        self._details = self._api.get_run(self._ws, self.id)
        return dict(self._details)

    @property
    def _info(self) -> dict[str, Any]:
        return dict(self._details) if self._details is not None else self._refresh()

    def _upload_bytes(self, name: str, data: bytes) -> str:
        """Store ``data`` as the run file ``name``; return its sha256 (``RunFiles`` does it)."""
        raise NotImplementedError
