"""MLflow's error shape (``{"error_code": ..., "message": ...}``) and the one table from the workspace's
typed errors to MLflow's codes and statuses.

MLflow's client turns such a body into ``RestException`` with a readable message, and decides on the code:
``mlflow.set_experiment`` creates the experiment only on ``RESOURCE_DOES_NOT_EXIST``. So every refusal of this
API must carry the code the MLflow server would answer, at the status its ``ERROR_CODE_TO_HTTP_STATUS`` gives.
"""

from __future__ import annotations

from typing import Any

from jupyter_aml import errors

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
BAD_REQUEST = "BAD_REQUEST"
INVALID_STATE = "INVALID_STATE"
PERMISSION_DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"
REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
INTERNAL_ERROR = "INTERNAL_ERROR"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"

# mlflow.exceptions.ERROR_CODE_TO_HTTP_STATUS, for the codes this API answers. INVALID_STATE is 500 there;
# here it is a caller's mistake (e.g. reopening a finished run), so it answers 400: the client shows the
# message either way, and a 5xx would make it retry for minutes.
STATUS = {
    INVALID_PARAMETER_VALUE: 400,
    RESOURCE_DOES_NOT_EXIST: 404,
    RESOURCE_ALREADY_EXISTS: 400,
    ENDPOINT_NOT_FOUND: 404,
    BAD_REQUEST: 400,
    INVALID_STATE: 400,
    PERMISSION_DENIED: 403,
    UNAUTHENTICATED: 401,
    REQUEST_LIMIT_EXCEEDED: 429,
    TEMPORARILY_UNAVAILABLE: 503,
    INTERNAL_ERROR: 500,
    NOT_IMPLEMENTED: 501,
}


class MlflowError(errors.UserError):
    """A refusal in MLflow's words: ``error_code`` is one of MLflow's codes, the status follows from it."""

    def __init__(self, error_code: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.error_code = error_code
        self.status = STATUS[error_code]
        self.code = error_code


def invalid(message: str, *, hint: str | None = None) -> MlflowError:
    return MlflowError(INVALID_PARAMETER_VALUE, message, hint=hint)


def missing(message: str) -> MlflowError:
    return MlflowError(RESOURCE_DOES_NOT_EXIST, message)


# The workspace's typed errors -> MLflow codes. The most specific class that matches wins (checked in order).
_CODES: tuple[tuple[type[errors.AMLError], str], ...] = (
    (errors.NotFound, RESOURCE_DOES_NOT_EXIST),
    (errors.Conflict, INVALID_STATE),
    (errors.Forbidden, PERMISSION_DENIED),
    (errors.Unauthorized, UNAUTHENTICATED),
    (errors.PayloadTooLarge, INVALID_PARAMETER_VALUE),
    (errors.QuotaExceeded, REQUEST_LIMIT_EXCEEDED),
    (errors.ServiceUnavailable, TEMPORARILY_UNAVAILABLE),
    (errors.UserError, INVALID_PARAMETER_VALUE),
)


def translate(exc: errors.AMLError) -> MlflowError:
    """The MLflow refusal for a typed error of the core (an MlflowError stays itself)."""
    if isinstance(exc, MlflowError):
        return exc
    code = next((c for kind, c in _CODES if isinstance(exc, kind)), INTERNAL_ERROR)
    if code == INTERNAL_ERROR:  # a typed error that is not the caller's fault: say so, as the MLflow server does
        return MlflowError(INTERNAL_ERROR, exc.message, hint=exc.hint)
    return MlflowError(code, exc.message, hint=exc.hint)


def body(exc: MlflowError) -> dict[str, Any]:
    """MLflow's error body. The hint, when there is one, is part of the message: the client shows only that."""
    message = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
    return {"error_code": exc.error_code, "message": message}
