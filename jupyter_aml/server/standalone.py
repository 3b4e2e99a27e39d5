"""``aml serve``: the same extension and handlers on a plain Jupyter server, for use without JupyterLab."""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_aml.deferred_imports import defer_iri_checker

defer_iri_checker()  # before jupyter_server imports jupyter_events (and so jsonschema): ~1-3 s of every start

from jupyter_aml.server.extension import AMLExtension, load_service_token  # noqa: E402


class AMLServeApp(AMLExtension):
    """Loads only this extension; clients authenticate with the bearer token from ``<root>/service-token``.

    Unlike inside JupyterLab, a service that cannot start is useless here: exit non-zero instead of
    serving nothing (clients waiting for ``service.json`` then fail fast with the log). The server loads
    the extension through its entry point (``AMLExtension``), so ``serve`` sets ``die_on_failure`` there.
    """

    load_other_extensions = False
    die_on_failure = True


def serve(root: Path, *, port: int = 8765, ip: str = "127.0.0.1", extra: list[str] | None = None) -> None:
    """Start the service on ``root``. No secret goes on the command line (``ps`` shows it to every user):
    the service token is read from ``<root>/service-token`` by the extension, and the Jupyter server picks
    its own random token (or ``$JUPYTER_TOKEN``), so the service token never opens kernels or contents.
    """
    root = root.expanduser().resolve()
    os.environ["JUPYTER_AML_ROOT"] = str(root)
    load_service_token(root)  # create it before clients look for it
    AMLExtension.die_on_failure = True
    argv = [
        f"--ServerApp.port={port}",
        f"--ServerApp.ip={ip}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_unauthenticated_access=False",
        f"--AMLExtension.root={root}",
        *(["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []),
        *(extra or []),
    ]
    AMLServeApp.launch_instance(argv)  # type: ignore[no-untyped-call]
