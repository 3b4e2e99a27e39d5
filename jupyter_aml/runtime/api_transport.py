"""The client's transport: paths built from the generated templates, query pairs, and the typed verbs.

Shared by every group of calls (api.Api and its bases); stdlib only, like the rest of the runtime.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from typing import Any

from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.http import ServiceClient

__all__ = ["Params", "Transport", "build_path", "match_path", "mlflow_uri", "query"]

Params = list[tuple[str, Any]]
_FIELD = re.compile(r"{(\w+)}")


def build_path(template: str, **values: str | int) -> str:
    """``/workspaces/{workspace}/runs/{run_id}`` + values -> a path with each value percent-quoted."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"path {template} needs {name}")
        return urllib.parse.quote(str(values[name]), safe="")

    return _FIELD.sub(one, template)


def match_path(templates: Sequence[str], path: str) -> tuple[str, dict[str, str]] | None:
    """The template a concrete path was built from, with its unquoted values (servers and test fakes)."""
    for template in sorted(templates, key=lambda t: (t.count("{"), -len(t))):
        pattern = "^" + _FIELD.sub(r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
        found = re.match(pattern + "$", path)
        if found:
            return template, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
    return None


def query(**values: Any) -> Params:
    """Query pairs, skipping None; lists repeat the name (``tag=a&tag=b``)."""
    pairs: Params = []
    for key, value in values.items():
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((key, item))
    return pairs


def mlflow_uri(base_url: str, workspace: str) -> str:
    """The MLflow tracking URI of ``workspace`` on the service whose REST root is ``base_url``
    (``.../aml/api/v1``): ``.../aml/mlflow`` for ``default``, else ``.../aml/mlflow/workspaces/NAME``
    (docs/mlflow.md). ValueError for a root that does not end in /aml/api/v1."""
    if not base_url.endswith("/aml/api/v1"):
        raise ValueError(base_url)
    root = base_url.removesuffix("/aml/api/v1") + "/aml/mlflow"
    return root if workspace == "default" else f"{root}/workspaces/{urllib.parse.quote(workspace, safe='')}"


class Transport:
    """A ``ServiceClient`` rooted at ``.../aml/api/v1`` and the verbs every call goes through: mypy checks
    each template against the paths the service serves (api_types)."""

    def __init__(self, http: ServiceClient) -> None:
        self.http = http

    # -- transport --------------------------------------------------------------------------------
    def _get(self, template: T.GetPath, params: Params | None = None, **path: str | int) -> Any:
        return self.http.get(build_path(template, **path), params=params)

    def _post(self, template: T.PostPath, body: Any = None, **path: str | int) -> Any:
        return self.http.post(build_path(template, **path), body)

    def _put(self, template: T.PutPath, body: Any, **path: str | int) -> Any:
        return self.http.put(build_path(template, **path), body)

    def _patch(self, template: T.PatchPath, body: Any, **path: str | int) -> Any:
        return self.http.patch(build_path(template, **path), body)

    def _delete(self, template: T.DeletePath, params: Params | None = None, **path: str | int) -> Any:
        return self.http.delete(build_path(template, **path), params=params)

    def close(self) -> None:
        self.http.close()
