"""A test request to a web service, sent by the workspace service for the browser (which cannot call the
scoring URI itself: another port, no CORS) and answered as data.

Errors of the web service are data here (status 4xx/5xx in the result), not API errors; 502 (unreachable)
and 504 (no answer in time) are set by this sender and say why in ``error``. Blocking (stdlib HTTP): call
it from a worker thread.
"""

from __future__ import annotations

import http.client
import time
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from jupyter_aml.core.deployments import DeploymentStore
from jupyter_aml.core.models import Strict
from jupyter_aml.errors import Conflict

TEST_MAX_REQUEST = 1024 * 1024  # characters of a test request body
TEST_MAX_RESPONSE = 1024 * 1024  # bytes of the scoring response kept; the rest is dropped (truncated=True)
TEST_MAX_SECONDS = 300.0


class EndpointTestRequest(Strict):
    """A request to send to the service's scoring URI, as a client would (with the chosen key)."""

    body: str = Field(max_length=TEST_MAX_REQUEST, description="the request body, sent as is (usually JSON)")
    key: Literal["primary", "secondary"] = "primary"


class EndpointTestResult(BaseModel):
    """What the scoring URI answered. Errors of the service are data here (status 4xx/5xx), not API errors;
    502 (unreachable) and 504 (no answer in time) come from this proxy and say why in ``error``."""

    status: int
    body: str  # the response text (UTF-8, invalid bytes replaced)
    content_type: str | None = None
    request_id: str | None = None  # x-ms-request-id: find the request in the service's log
    elapsed_ms: float
    truncated: bool = False  # the response was longer than TEST_MAX_RESPONSE bytes
    error: str | None = None


class EndpointTester:
    def __init__(self, deployments: DeploymentStore) -> None:
        self.deployments = deployments

    def send(self, workspace: str, name: str, spec: EndpointTestRequest) -> EndpointTestResult:
        svc = self.deployments.get(workspace, name)
        if not svc.scoring_uri:
            raise Conflict(f"web service {name!r} has no scoring URI yet (state {svc.state})",
                           hint="wait until the deployment has started")
        headers = {"Content-Type": "application/json"}
        if svc.auth_enabled:
            keys = self.deployments.keys(workspace, name)
            headers["Authorization"] = f"Bearer {keys.primary_key if spec.key == 'primary' else keys.secondary_key}"
        timeout = min(TEST_MAX_SECONDS, svc.deployment_config.scoring_timeout_ms / 1000 + 5)
        return post(svc.scoring_uri, spec.body.encode(), headers, timeout=timeout)


def post(uri: str, body: bytes, headers: dict[str, str], *, timeout: float) -> EndpointTestResult:
    """POST ``body`` to ``uri``, keeping at most TEST_MAX_RESPONSE bytes of the answer; never raises for
    network failures (they become 502/504 results)."""
    parts = urlsplit(uri)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    kept: list[bytes] = []
    size = 0
    conn = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=min(10.0, timeout))
    try:
        conn.connect()
        sock = conn.sock  # kept: http.client lets go of it once the response is read
        assert sock is not None
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        while chunk := response.read(1 << 16):
            if size < TEST_MAX_RESPONSE:
                kept.append(chunk[: TEST_MAX_RESPONSE - size])
            size += len(chunk)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the answer took too long")
            if not response.isclosed():  # closed once the whole answer is in
                sock.settimeout(remaining)
    except TimeoutError:
        return _failed(504, kept, start, f"no answer from {uri} in {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return _failed(502, kept, start, f"could not reach {uri}: {exc or exc.__class__.__name__}")
    finally:
        conn.close()
    return EndpointTestResult(
        status=response.status, body=b"".join(kept).decode("utf-8", errors="replace"),
        content_type=response.getheader("Content-Type"), request_id=response.getheader("x-ms-request-id"),
        elapsed_ms=_elapsed(start), truncated=size > TEST_MAX_RESPONSE,
    )


def _elapsed(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def _failed(status: int, kept: list[bytes], start: float, error: str) -> EndpointTestResult:
    return EndpointTestResult(status=status, body=b"".join(kept).decode("utf-8", errors="replace"),
                              elapsed_ms=_elapsed(start), error=error)
