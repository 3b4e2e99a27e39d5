"""``OfflineRun``: what ``Run.get_context()`` returns outside a run, so a script runs unchanged anywhere."""

from __future__ import annotations

import os
from typing import Any

from jupyter_aml.errors import UserError
from jupyter_aml.runtime.metric_values import check_v1
from jupyter_aml.sdk.run import Run
from jupyter_aml.sdk.run_metrics import rows_to_table


class OfflineRun(Run):
    """Prints what it would log, stores nothing."""

    def __init__(self) -> None:
        self.id = f"OfflineRun_{os.getpid()}"
        self._details = {
            "id": self.id,
            "status": "Running",
            "tags": {},
            "properties": {},
            "parent_id": None,
            "number": 0,
            "display_name": self.id,
        }
        self._journal = None
        self._shipper = None
        self._metrics: dict[str, Any] = {}
        self._rows: dict[str, list[dict[str, Any]]] = {}

    experiment = property(lambda self: None)

    def _say(self, what: str) -> None:
        print(f"[offline run] {what}")

    def _refresh(self) -> dict[str, Any]:
        return dict(self._details or {})

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        self._metrics.setdefault(name, []).append(value)
        self._say(f"log {name}={value!r}" + (f" step={step}" if step is not None else ""))

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        self._metrics[name] = list(value)
        self._say(f"log_list {name}={value!r}")

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        self._rows.setdefault(name, []).append(kwargs)
        self._say(f"log_row {name}={kwargs!r}")

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        self._metrics[name] = value
        self._say(f"log_table {name}")

    def _log_v1(self, kind: str, name: str, value: Any) -> None:
        self._metrics[name] = check_v1(kind, value)  # a bad shape fails here as it would in a real run
        self._say(f"log {kind} {name}")

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        self._log_v1("accuracy_table", name, value)

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        self._log_v1("confusion_matrix", name, value)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        self._log_v1("predictions", name, value)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        self._log_v1("residuals", name, value)

    def log_image(self, name: str, path: Any = None, plot: Any = None, description: str = "") -> None:
        self._say(f"log_image {name}")

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        out = {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in self._metrics.items()}
        out.update({k: rows_to_table(rows) for k, rows in self._rows.items()})  # as the service returns rows
        return {name: out[name]} if name and name in out else ({} if name else out)

    def set_tags(self, tags: dict[str, Any]) -> None:
        self._details["tags"].update({k: str(v) for k, v in tags.items()})  # type: ignore[index]
        self._say(f"set_tags {tags!r}")

    def add_properties(self, properties: dict[str, Any]) -> None:
        self._details["properties"].update({k: str(v) for k, v in properties.items()})  # type: ignore[index]

    def upload_file(self, name: str, path_or_stream: Any) -> dict[str, Any]:
        self._say(f"upload_file {name}")
        return {"path": name}

    def child_run(self, name: str | None = None, run_id: str | None = None, outputs: str | None = None) -> Run:
        return OfflineRun()

    def _set_status(self, status: Any, error: Any = None) -> None:
        self._details["status"] = status  # type: ignore[index]
        self._say(f"status {status}")

    def cancel(self) -> None:
        self._set_status("Canceled")

    def get_file_names(self) -> list[str]:
        return []

    def get_secrets(self, secrets: list[str]) -> dict[str, str | None]:
        """An offline run has no workspace, so no key vault: say so rather than hand back nothing."""
        raise UserError("an offline run (a script started outside a submitted run) has no workspace key vault "
                        "to read secrets from", hint="submit the script as a run, or read the secret in the "
                        "notebook with ws.get_default_keyvault().get_secret(name)")

    def __repr__(self) -> str:
        return f"OfflineRun(id={self.id!r})"
