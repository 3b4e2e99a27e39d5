"""What a route method accepts, returns and does: written once in its ``@api(...)`` line, read by the
authorization decision, the OpenAPI generator and the tests."""

from __future__ import annotations

from dataclasses import dataclass

import pydantic


@dataclass(frozen=True)
class ApiSpec:
    """What a handler method accepts and returns; read by the OpenAPI generator and the auth tests."""

    scope: str  # who besides users may call it: "user" (users only), "run", "run-read", "blobs", "snapshot",
    # "experiment-read" (a run token reads its own run's experiment record only), "workspace" (a run token
    # of the workspace may call it: datastores a run mounts or uploads to)
    summary: str
    action: str  # what it does, in the authorization table (core/roles.py)
    body: type[pydantic.BaseModel] | None = None
    returns: type[pydantic.BaseModel] | None = None
    query: tuple[tuple[str, str, str], ...] = ()  # (name, type, description)
    status: int = 200
    content_type: str = "application/json"
    lists_descendants: bool = False  # lists child runs: a run token may not use it on an ancestor
