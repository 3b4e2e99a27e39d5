"""Handler base: authentication (Jupyter identity, the service token, per-run tokens), authorization,
JSON bodies validated by pydantic, and the one table that maps typed errors to HTTP statuses."""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

import orjson
import pydantic
from jupyter_server.auth.decorator import authorized
from jupyter_server.auth.identity import User
from jupyter_server.base.handlers import APIHandler
from tornado import web

from jupyter_aml.core import roles as rbac
from jupyter_aml.core.numbers import MAX_OFFSET, parse_int
from jupyter_aml.core.principals import RunPrincipal
from jupyter_aml.core.sharing import USER_TOKEN_PREFIX
from jupyter_aml.errors import AMLError, Busy, InvalidInput, PayloadTooLarge
from jupyter_aml.server.authz import Caller, Identity, authorize
from jupyter_aml.server.spec import ApiSpec as ApiSpec  # re-exported: routes and openapi.py read it here

if TYPE_CHECKING:
    from jupyter_aml.app import AMLApplication
    from jupyter_aml.core.scheduler import Scheduler
    from jupyter_aml.core.service import AMLService

log = logging.getLogger("jupyter_aml.server")
ANONYMOUS = Caller("anonymous")
DEFAULT_IDENTITY = Identity()
AUTH_RESOURCE = "aml"
M = TypeVar("M", bound=pydantic.BaseModel)


def api(scope: str, summary: str, *, action: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Every route method goes through this: authenticated, then authorized for its action, then documented;
    a successful audited action is written to the activity log."""
    if action not in rbac.ACTIONS and action not in rbac.GLOBAL_ACTIONS:
        raise ValueError(f"unknown action {action!r}: add it to jupyter_aml/core/roles.py")
    spec = ApiSpec(scope=scope, summary=summary, action=action, **kwargs)

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        async def decided(self: AMLHandler, *args: Any, **kw: Any) -> None:
            await authorize(self, spec)
            self._audit = spec
            await method(self, *args, **kw)

        guarded = web.authenticated(authorized(decided))
        guarded.__aml_api__ = spec  # type: ignore[attr-defined]
        return guarded

    return wrap


class TokenCallerAuthorizer:
    """Jupyter's authorizer for callers Jupyter does not know (service, named and run tokens): the AML
    decision (``server.authz``) is the whole decision for them, and they reach only AML routes."""

    async def is_authorized(self, handler: AMLHandler, user: User, action: str, resource: str) -> bool:
        return getattr(getattr(handler, handler.request.method.lower(), None), "__aml_api__", None) is not None


TOKEN_CALLER_AUTHORIZER = TokenCallerAuthorizer()

@web.stream_request_body
class AMLHandler(APIHandler):
    """Every AML route streams its body: ``prepare()`` authenticates from the headers alone and refuses an
    anonymous caller before one body byte is read, and a body over the route's limit is refused from its
    declared length, so unauthenticated or oversized requests never sit in memory."""

    run_principal: RunPrincipal | None = None
    caller: Caller = ANONYMOUS
    _aml_token_caller = False
    _prepared = False  # prepare() let the request through: its body will be read
    _audit: ApiSpec | None = None
    audit_target: str = ""  # set by a handler whose new resource's name is not in its path
    audit_workspace: str | None = None
    audit_detail: dict[str, Any] = {}
    _replied: Any = None
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
        if self._aml_token_caller:
            return TOKEN_CALLER_AUTHORIZER
        return super().authorizer

    def _bearer(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    async def prepare(self) -> None:  # type: ignore[override]
        token = self._bearer()
        caller = await self._token_caller(token) if token else None
        if caller is not None:
            if not self.check_host():
                raise web.HTTPError(403)
            self.caller = caller
            self.current_user = self._jupyter_current_user = User(username=caller.name)
            self._token_authenticated = self._aml_token_caller = True
        else:
            refused = web.HTTPError(403, "this bearer token is not valid (revoked, expired or mistyped)" if token
                                    else "authentication required: send a Jupyter token or a bearer token")
            try:
                await super().prepare()
            except web.HTTPError as exc:
                raise (refused if exc.status_code == 403 else exc) from None
            if self.current_user is None:
                if self.request.method != "OPTIONS":
                    raise refused
            else:
                self.caller = self.identity.jupyter_user(self.current_user.username)
        self._limit_body()
        self._prepared = True

    async def _token_caller(self, token: str) -> Caller | None:
        """The caller a bearer token names: the service token, a named user token or a run token."""
        service_token = self.settings.get("aml_service_token")
        if service_token and hmac.compare_digest(token, service_token):
            return self.identity.service()
        if token.startswith(USER_TOKEN_PREFIX):
            user = await asyncio.to_thread(self.aml.sharing.user_of_token, token)
            return self.identity.named(user) if user is not None else None
        run_id = self.aml.principals.run_id(token)
        if run_id is None:
            return None
        principal = await asyncio.to_thread(self.aml.principals.resolve, run_id)
        self.run_principal = principal
        return Caller(f"run:{run_id}", run=principal)

    @property
    def identity(self) -> Identity:
        identity: Identity = self.settings.get("aml_identity") or DEFAULT_IDENTITY
        return identity

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
        """Whom new resources are recorded as made by: the caller, or for a run token the run's submitter."""
        caller = self.caller
        return caller.run.submitter if caller.run is not None else caller.name

    # -- the activity log ----------------------------------------------------------------------------
    def finish(self, chunk: Any = None) -> Any:
        if not self._prepared:
            # Refused from the headers, before its body was read: tornado drops such a connection after the
            # answer, so say so, or a keep-alive client (JupyterHub's proxy) reuses a dead socket.
            self.set_header("Connection", "close")
        spec, self._audit = self._audit, None
        if spec is not None and self.get_status() < 400 and self._audited(spec):
            self._record(spec)
        return super().finish(chunk)

    def _audit_target_default(self) -> str:
        """What was acted on: a created resource (201/202) as the answer names it, else the path's names."""
        payload = self._replied
        if self.get_status() in (201, 202) and isinstance(payload, dict):
            if isinstance(payload.get("items"), list):
                return ",".join(str(_resource_name(i)) for i in payload["items"][:20])
            created = _resource_name(payload)
            if created:
                return created
        return "/".join(str(v) for k, v in self.path_kwargs.items() if k != "workspace")

    def _audited(self, spec: ApiSpec) -> bool:
        return (rbac.ACTIONS.get(spec.action) or rbac.GLOBAL_ACTIONS[spec.action]).audited

    def _record(self, spec: ApiSpec) -> None:
        """One activity row, written before the answer goes out so that a reader after it sees it. A failure
        to write it is logged, not answered: the action itself has happened."""
        target = self.audit_target or self._audit_target_default()
        try:
            self.aml.sharing.record(**self.activity(spec, status=self.get_status(), target=target))
        except Exception:
            log.exception("could not write the activity record of %s %s", self.request.method, self.request.path)

    def activity(self, spec: ApiSpec, *, status: int, target: str) -> dict[str, Any]:
        """The activity row of this request's action, as ``Sharing.record`` takes it."""
        caller = self.caller
        user = f"{caller.run.submitter} (run {caller.run.run_id})" if caller.run is not None else caller.name
        return {"workspace": self.audit_workspace or self.path_kwargs.get("workspace"), "user": user,
                "action": spec.action, "target_kind": spec.action.split("/")[0], "target": target,
                "detail": {"method": self.request.method, "path": self.request.path, "status": status,
                           **self.audit_detail}}

    def take_activity(self, status: int) -> dict[str, Any] | None:
        """The activity row for a handler that writes it in its own transaction (a run's creation: one
        transaction, not two, and none on the event loop); ``finish`` then writes none. Its ``target`` is
        left for the handler to fill in."""
        spec, self._audit = self._audit, None
        if spec is None or not self._audited(spec):
            return None
        return self.activity(spec, status=status, target="")

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
        self._replied = payload
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY))

    def query_value(self, name: str) -> str | None:
        """A query parameter given at most once (tornado would silently take the last of several)."""
        values = self.get_query_arguments(name)
        if len(values) > 1:
            raise InvalidInput(f"query parameter {name!r} is given {len(values)} times", hint="give it once")
        return values[0] if values else None

    def query_flag(self, name: str) -> bool:
        """A boolean query parameter: ``true`` or ``false`` as the document says (absent: false); any other
        value is refused, never read as false."""
        value = self.query_value(name)
        if value is None or value == "false":
            return False
        if value == "true":
            return True
        raise InvalidInput(f"query parameter {name!r} must be true or false, not {value!r}",
                           hint=f"e.g. ?{name}=true, or leave it out for false")

    def query_list(self, name: str) -> list[str]:
        return [v.decode() if isinstance(v, bytes) else v for v in self.request.query_arguments.get(name, [])]

    @overload
    def query_int(self, name: str, default: int) -> int: ...

    @overload
    def query_int(self, name: str, default: None = None) -> int | None: ...

    def query_int(self, name: str, default: int | None = None) -> int | None:
        value = self.query_value(name)
        if value is None:
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


def _resource_name(payload: Any) -> str:
    if not isinstance(payload, dict):
        return ""
    name, version = payload.get("name"), payload.get("version")
    if name and version is not None:
        return f"{name}:{version}"
    return str(payload.get("id") or name or "")


def validation_body(exc: pydantic.ValidationError) -> dict[str, Any]:
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:10]]
    return {
        "code": "ValidationError",
        "message": "invalid request: " + "; ".join(problems),
        "hint": "fix the named fields and retry",
        "details": [{"field": ".".join(str(p) for p in e["loc"]), "error": e["msg"]} for e in exc.errors()[:50]],
    }
