"""Typed errors shared by the service, the SDK and the in-run runtime.

Stdlib only: the SDK and the run agent import this inside user environments. Each error carries a
machine-readable ``code`` (mapped to an HTTP status in one table in ``jupyter_aml.server``) and a
``hint`` that tells the user what to do next.
"""

from __future__ import annotations

from typing import Any


class AMLError(Exception):
    """Base of every error the project raises on purpose."""

    code = "Error"
    status = 500

    def __init__(self, message: str, *, hint: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        if self.details is not None:
            body["details"] = self.details
        return body


class UserError(AMLError):
    """The request was wrong (4xx): fixing it is up to the caller, retrying the same call will not help."""

    code, status = "UserError", 400


class InvalidInput(UserError):
    code, status = "InvalidInput", 400


class ValidationError(UserError):
    code, status = "ValidationError", 422


class Unauthorized(UserError):
    code, status = "Unauthorized", 401


class Forbidden(UserError):
    code, status = "Forbidden", 403


class NotFound(UserError):
    code, status = "NotFound", 404


class Conflict(UserError):
    code, status = "Conflict", 409


class PayloadTooLarge(UserError):
    code, status = "PayloadTooLarge", 413


class QuotaExceeded(UserError):
    """A per-run quota (e.g. ``max_child_runs_per_run``) would be passed: answered 429 without Retry-After,
    since waiting does not free the quota; the message says the quota, the count and the setting to raise."""

    code, status = "QuotaExceeded", 429


class ServiceUnavailable(AMLError):
    code, status = "ServiceUnavailable", 503


class ComputeUnavailable(UserError):
    """A compute's engine does not answer (no Docker engine, a Dask scheduler address that times out): nothing
    was created or changed; the hint says what to start or fix. 400, since the request names that engine."""

    code, status = "ComputeUnavailable", 400


class Busy(ServiceUnavailable):
    """The service cannot take this now (a held write lock, too many large uploads): retry later.

    Answered as 503 with ``Retry-After: retry_after`` seconds; never a reason to give up on the request. A kind
    of ``ServiceUnavailable``, so every loop that waits out an unreachable service also waits out a busy one."""

    code, status = "Busy", 503

    def __init__(
        self, message: str, *, hint: str | None = None, details: Any = None, retry_after: int = 2
    ) -> None:
        super().__init__(message, hint=hint or f"retry after {retry_after} s", details=details)
        self.retry_after = retry_after


class SnapshotTooLarge(PayloadTooLarge):
    code = "SnapshotTooLarge"


class SchemaOutOfDate(AMLError):
    code, status = "SchemaOutOfDate", 503


class WebserviceException(AMLError):
    """Azure ML v1's error for registry and web service failures (``azureml.exceptions.WebserviceException``).

    A scoring call that the web service refused carries its HTTP status in ``status`` and the service's error
    body in ``details``."""

    code = "WebserviceError"


ERRORS_BY_CODE: dict[str, type[AMLError]] = {
    cls.code: cls
    for cls in (
        AMLError,
        UserError,
        InvalidInput,
        ValidationError,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        QuotaExceeded,
        Busy,
        SnapshotTooLarge,
        SchemaOutOfDate,
        ServiceUnavailable,
    )
}


def error_from_dict(body: dict[str, Any], status: int | None = None) -> AMLError:
    """Rebuild a typed error from a REST error body (used by the HTTP client)."""
    cls = ERRORS_BY_CODE.get(str(body.get("code")), AMLError)
    err = cls(str(body.get("message", "request failed")), hint=body.get("hint"), details=body.get("details"))
    if cls is AMLError and status:
        err.status = status
    return err


class RunCanceled(Exception):
    """Raised inside a run's own process (agent, environment build) when the run was canceled.

    Not an ``AMLError``: it never crosses the wire, it only unwinds the agent's work.
    """
