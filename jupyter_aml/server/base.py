"""Handler base: authentication (Jupyter identity, the service token, per-run tokens), authorization,
JSON bodies validated by pydantic, and the one table that maps typed errors to HTTP statuses."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

import orjson
import pydantic
from jupyter_server.auth.decorator import authorized
from jupyter_server.auth.identity import User
from jupyter_server.base.handlers import APIHandler
from tornado import web

from jupyter_aml.core.numbers import MAX_OFFSET, parse_int
from jupyter_aml.core.principals import RunPrincipal
from jupyter_aml.errors import AMLError, Busy, PayloadTooLarge

if TYPE_CHECKING:
    from jupyter_aml.app import AMLApplication
    from jupyter_aml.compute.scheduler import Scheduler
    from jupyter_aml.core.service import AMLService

log = logging.getLogger("jupyter_aml.server")
AUTH_RESOURCE = "aml"
M = TypeVar("M", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class ApiSpec:
    """What a handler method accepts and returns; read by the OpenAPI generator and the auth test."""

    scope: str  # who besides users may call it: "user" (users only), "run", "run-read", "blobs", "snapshot"
    summary: str
    body: type[pydantic.BaseModel] | None = None
    returns: type[pydantic.BaseModel] | None = None
    query: tuple[tuple[str, str, str], ...] = ()  # (name, type, description)
    status: int = 200
    content_type: str = "application/json"


def api(scope: str, summary: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Every route method goes through this: authenticated, then authorized, then documented."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        guarded = web.authenticated(authorized(method))
        guarded.__aml_api__ = ApiSpec(scope=scope, summary=summary, **kwargs)  # type: ignore[attr-defined]
        return guarded

    return wrap


class RunAuthorizer:
    """Authorizer for requests carrying a run token: only that run's tree, as the route's scope allows."""

    async def is_authorized(self, handler: AMLHandler, user: User, action: str, resource: str) -> bool:
        spec: ApiSpec | None = getattr(getattr(handler, handler.request.method.lower()), "__aml_api__", None)
        principal = handler.run_principal
        if spec is None or principal is None or spec.scope == "user":
            return False
        workspace = handler.path_kwargs.get("workspace")
        if workspace != principal.workspace:
            return False
        if spec.scope == "blobs":
            return True
        if spec.scope == "snapshot":
            return handler.path_kwargs.get("snapshot_id") == principal.snapshot_id
        target = handler.path_kwargs.get("run_id")
        if not target:
            return False
        runs = handler.aml.runs
        inside = await asyncio.to_thread(runs.in_subtree, workspace, principal.run_id, [target])
        if inside:
            return True
        if spec.scope == "run-read" or (spec.scope == "run" and action == "read"):
            # ancestors' records are readable (run.parent)
            return principal.run_id in await asyncio.to_thread(runs.in_subtree, workspace, target, [principal.run_id])
        return False


@web.stream_request_body
class AMLHandler(APIHandler):
    """Every AML route streams its body: ``prepare()`` authenticates from the headers alone and refuses an
    anonymous caller before one body byte is read, and a body over the route's limit is refused from its
    declared length, so unauthenticated or oversized requests never sit in memory."""

    run_principal: RunPrincipal | None = None
    auth_resource = AUTH_RESOURCE
    _chunks: list[bytes] | None = None
    _received = 0

    @property
    def app(self) -> AMLApplication:
        """The application object the extension built: services, run queue, deployments, event hub."""
        app: AMLApplication = self.settings["aml_app"]
        return app

    @property
    def aml(self) -> AMLService:
        return self.app.service

    @property
    def scheduler(self) -> Scheduler:
        return self.app.scheduler

    @property
    def authorizer(self) -> Any:
        if self.run_principal is not None:
            return self.settings["aml_run_authorizer"]
        return super().authorizer

    def _bearer(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    async def prepare(self) -> None:  # type: ignore[override]
        token = self._bearer()
        service_token = self.settings.get("aml_service_token")
        if token and service_token and hmac.compare_digest(token, service_token):
            if not self.check_host():
                raise web.HTTPError(403)
            self.current_user = self._jupyter_current_user = User(username="aml-service", name="AML service")
            self._token_authenticated = True
            self._limit_body()
            return
        principals = self.aml.principals
        run_id = principals.run_id(token) if token else None
        if run_id is not None:
            if not self.check_host():
                raise web.HTTPError(403)
            self.run_principal = await asyncio.to_thread(principals.resolve, run_id)
            self.current_user = self._jupyter_current_user = User(username=f"run:{run_id}")
            self._token_authenticated = True
            self._limit_body()
            return
        await super().prepare()
        if self.current_user is None and self.request.method != "OPTIONS":
            raise web.HTTPError(403, "authentication required: send a Jupyter token or a bearer token")
        self._limit_body()

    def body_limit(self) -> int:
        """The largest body this route takes; streaming routes (blob uploads) raise it."""
        return self.aml.settings.max_request_bytes

    def _limit_body(self) -> None:
        """Refuse a declared body over the limit now, and make the connection enforce it for chunked ones."""
        if self._finished:
            return
        limit = self.body_limit()
        declared = self.request.headers.get("Content-Length", "0") or "0"
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"the request body is {declared} bytes; the limit is {limit}",
                                  hint="send smaller batches")
        connection = self.request.connection
        if connection is not None and hasattr(connection, "set_max_body_size"):
            connection.set_max_body_size(limit)

    def data_received(self, chunk: bytes) -> None:
        if self._chunks is None:
            self._chunks = []
        self._received += len(chunk)
        self._chunks.append(chunk)

    def raw_body(self) -> bytes:
        """The request body, gathered from the streamed chunks once."""
        if self._chunks is not None:
            self.request.body = b"".join(self._chunks)
            self._chunks = None
        return self.request.body or b""

    @property
    def token_authenticated(self) -> bool:
        return bool(getattr(self, "_token_authenticated", False)) or super().token_authenticated

    @property
    def submitter(self) -> str:
        user = self.current_user
        return getattr(user, "name", None) or getattr(user, "username", None) or "unknown"

    # -- bodies and responses ------------------------------------------------------------------------
    def body(self, model: type[M]) -> M:
        raw = self.raw_body()
        limit = self.aml.settings.max_request_bytes
        if len(raw) > limit:
            raise PayloadTooLarge(
                f"the request body is {len(raw)} bytes; the limit is {limit}", hint="send smaller batches"
            )
        try:  # pydantic parses and validates in one pass in Rust: much faster than json.loads + validate
            return model.model_validate_json(raw or b"{}")
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == "json_invalid":
                raise AMLError("the request body is not valid JSON", hint=str(first.get("ctx", first["msg"]))) from None
            raise

    def reply(self, payload: Any, status: int = 200) -> None:
        if isinstance(payload, pydantic.BaseModel):
            payload = payload.model_dump(mode="json")
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY))

    def query_list(self, name: str) -> list[str]:
        return [v.decode() if isinstance(v, bytes) else v for v in self.request.query_arguments.get(name, [])]

    @overload
    def query_int(self, name: str, default: int) -> int: ...

    @overload
    def query_int(self, name: str, default: None = None) -> int | None: ...

    def query_int(self, name: str, default: int | None = None) -> int | None:
        value = self.get_query_argument(name, None)
        if value is None or value == "":
            return default
        return parse_int(value, f"query parameter {name!r}", minimum=0, maximum=MAX_OFFSET)

    # -- errors: one table, no tracebacks to clients --------------------------------------------------
    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, AMLError):
            status, body = (400 if type(exc) is AMLError else exc.status), exc.to_dict()
        elif isinstance(exc, pydantic.ValidationError):
            status, body = 422, validation_body(exc)
        elif isinstance(exc, web.HTTPError):
            status = exc.status_code
            code = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed"}.get(
                status, "Error"
            )
            message = exc.log_message if status < 500 and exc.log_message else self._reason
            body = {"code": code, "message": message or code}
            if status == 403 and self.run_principal is not None:
                body["message"] = (f"the token of run {self.run_principal.run_id} may reach only that run, its "
                                   "child runs and its snapshot")
                body["hint"] = "do this from your notebook or the CLI, where you act as yourself"
        else:
            status = 500
            error_id = secrets.token_hex(4)
            log.error("unhandled error %s in %s %s", error_id, self.request.method, self.request.path, exc_info=exc)
            body = {"code": "InternalError", "message": f"internal error (id {error_id}); see the server log"}
        self.clear()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        if isinstance(exc, Busy):
            self.set_header("Retry-After", str(exc.retry_after))
        if status == 405:  # RFC 9110: a 405 names the methods the resource has
            self.set_header("Allow", ", ".join(self.allowed_methods()))
            body["message"] = f"{self.request.method} is not a method of this resource"
            body["hint"] = "use one of: " + ", ".join(self.allowed_methods())
        self.finish(orjson.dumps({"error": body}))

    @classmethod
    def allowed_methods(cls) -> list[str]:
        """The methods this route serves: the handler methods that went through ``api()``."""
        return [m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
                if hasattr(getattr(cls, m.lower(), None), "__aml_api__")]

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, AMLError | pydantic.ValidationError):
            log.info("%s %s -> %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)


def validation_body(exc: pydantic.ValidationError) -> dict[str, Any]:
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:10]]
    return {
        "code": "ValidationError",
        "message": "invalid request: " + "; ".join(problems),
        "hint": "fix the named fields and retry",
        "details": [{"field": ".".join(str(p) for p in e["loc"]), "error": e["msg"]} for e in exc.errors()[:50]],
    }
