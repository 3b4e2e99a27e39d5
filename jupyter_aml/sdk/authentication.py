"""Azure ML v1's credential classes (``azureml.core.authentication``), mapped onto this service's token.

There is no Azure Active Directory here: a workspace service answers requests that carry its token (the
Jupyter server's token, ``aml serve``'s, a JupyterHub API token, or a run's own token inside a run). Each v1
class names where that token comes from, so v1 driver code that builds one and passes ``auth=`` runs as it is:

- ``InteractiveLoginAuthentication``, ``AzureCliAuthentication`` and ``MsiAuthentication``: the identity this
  process already has, found the way ``Workspace.get`` finds it without ``auth`` (``jupyter_aml.sdk.connect``):
  inside a run, the run's token; then ``JUPYTER_AML_URL``/``JUPYTER_AML_TOKEN``; then the ``service.json`` of
  the local service (JupyterLab's extension or ``aml serve``), started in the background if none runs.
- ``ServicePrincipalAuthentication(tenant_id, service_principal_id, service_principal_password)``: the
  *password* is sent as the service token, so a CI job keeps its secret where it was (an environment variable
  or a vault) and puts this service's token in it. The tenant and principal ids are kept, not checked. The
  password never appears in ``repr``, ``get_details``, logs or errors.
- ``TokenAuthentication(get_token_for_audience)``: the function is called with the service's URL as the
  audience, once per connection, and what it returns is the token.

Azure-only arguments (``tenant_id``, ``cloud``, ``identity_config``, ``force``) are kept on the object for code
that reads them back and have no effect here, as docs/v1-compatibility.md says.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from jupyter_aml.errors import Forbidden, InvalidInput, Unauthorized
from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.sdk.connect import connect

__all__ = [
    "AbstractAuthentication",
    "AuthenticationException",
    "AzureCliAuthentication",
    "InteractiveLoginAuthentication",
    "MsiAuthentication",
    "ServicePrincipalAuthentication",
    "TokenAuthentication",
    "client_for",
]


class AuthenticationException(Unauthorized, Forbidden):
    """v1's name for a credential the service refused (a token it does not know: 401 or 403). A kind of both, so
    code that catches either keeps working; the message never contains the token."""

    code = "Unauthorized"


class AbstractAuthentication:
    """v1's base class: something that yields the token requests carry."""

    def _client(self, service_url: str | None) -> ServiceClient:
        """A client for the service, carrying this credential's token."""
        return connect(service_url=service_url)

    def get_authentication_header(self, service_url: str | None = None) -> dict[str, str]:
        """``{"Authorization": "Bearer <token>"}`` for calling the service (or a web service of it) directly."""
        header = getattr(self._client(service_url), "_headers", {}).get("Authorization")
        if not header:
            raise Unauthorized(f"{type(self).__name__} found no token for the workspace service",
                               hint="set JUPYTER_AML_TOKEN, or start JupyterLab / `aml serve` on this machine")
        return {"Authorization": header}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class InteractiveLoginAuthentication(AbstractAuthentication):
    """v1's browser login. Here: the session's own identity (no prompt); ``force`` and ``tenant_id`` are kept."""

    def __init__(self, force: bool = False, tenant_id: str | None = None, cloud: str | None = None) -> None:
        self.force, self.tenant_id, self.cloud = force, tenant_id, cloud


class AzureCliAuthentication(AbstractAuthentication):
    """v1's ``az login`` credential. Here: the identity the ``aml`` command line uses (the same lookup)."""

    def __init__(self, cloud: str | None = None) -> None:
        self.cloud = cloud


class MsiAuthentication(AbstractAuthentication):
    """v1's managed identity. Here: the machine's or the run's own token (inside a run, the run's token)."""

    def __init__(self, cloud: str | None = None, identity_config: dict[str, Any] | None = None) -> None:
        self.cloud, self.identity_config = cloud, identity_config


class ServicePrincipalAuthentication(AbstractAuthentication):
    """v1's service principal: its password is this service's token (see the module's docstring)."""

    def __init__(self, tenant_id: str, service_principal_id: str, service_principal_password: str,
                 cloud: str = "AzureCloud", _enable_caching: bool = True) -> None:
        if not service_principal_password:
            raise InvalidInput("ServicePrincipalAuthentication needs a service_principal_password",
                               hint="it is sent as the workspace service's token: put that token in it")
        self.tenant_id, self.service_principal_id, self.cloud = tenant_id, service_principal_id, cloud
        self._password = service_principal_password

    def _client(self, service_url: str | None) -> ServiceClient:
        return ServiceClient(_service_url(service_url), self._password)

    def __repr__(self) -> str:  # never the password
        return (f"ServicePrincipalAuthentication(tenant_id={self.tenant_id!r}, "
                f"service_principal_id={self.service_principal_id!r})")

    def __getstate__(self) -> dict[str, Any]:  # not pickled into snapshots or run configurations either
        return {k: v for k, v in self.__dict__.items() if k != "_password"}


class TokenAuthentication(AbstractAuthentication):
    """v1's ``TokenAuthentication(get_token_for_audience)``: called with the service URL as the audience."""

    def __init__(self, get_token_for_audience: Callable[[str], str]) -> None:
        if not callable(get_token_for_audience):
            raise InvalidInput("TokenAuthentication needs a function: get_token_for_audience(audience) -> token")
        self.get_token_for_audience = get_token_for_audience

    def _client(self, service_url: str | None) -> ServiceClient:
        url = _service_url(service_url)
        token = self.get_token_for_audience(url)
        if isinstance(token, tuple):  # v1 allowed (token, expiry)
            token = token[0]
        if not isinstance(token, str) or not token:
            raise Unauthorized(f"get_token_for_audience({url!r}) returned no token",
                               hint="return this workspace service's token as a str")
        return ServiceClient(url, token)


def _service_url(explicit: str | None) -> str:
    """Where the service is, for credentials that bring their own token: the explicit URL, ``JUPYTER_AML_URL``,
    or the local service (started if needed, as ``Workspace.get`` does); the local token is then not used."""
    if explicit:
        return explicit
    if os.environ.get("JUPYTER_AML_URL"):
        return os.environ["JUPYTER_AML_URL"]
    return connect().base_url


def client_for(auth: Any, *, service_url: str | None, token: str | None) -> ServiceClient:
    """The client ``Workspace(..., auth=)`` uses: ``auth`` (a v1 credential) or the explicit token / default."""
    if auth is None:
        return connect(service_url=service_url, token=token)
    if token is not None:
        raise InvalidInput("pass either auth= or token=, not both",
                           hint="auth=ServicePrincipalAuthentication(...) already carries the token")
    if not isinstance(auth, AbstractAuthentication):
        raise InvalidInput(f"auth= must be an azureml.core.authentication credential, not {type(auth).__name__}",
                           hint="InteractiveLoginAuthentication(), ServicePrincipalAuthentication(...), "
                           "MsiAuthentication(), AzureCliAuthentication() or TokenAuthentication(fn)")
    return auth._client(service_url)
