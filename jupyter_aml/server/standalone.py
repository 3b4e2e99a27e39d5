"""``aml serve``: the same extension and handlers on a plain Jupyter server, for use without JupyterLab."""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_aml.server.extension import AMLExtension, load_service_token


class AMLServeApp(AMLExtension):
    """Loads only this extension; clients authenticate with the bearer token from ``<root>/service-token``."""

    load_other_extensions = False


def serve(root: Path, *, port: int = 8765, ip: str = "127.0.0.1", extra: list[str] | None = None) -> None:
    root = root.expanduser().resolve()
    os.environ["JUPYTER_AML_ROOT"] = str(root)
    token = load_service_token(root)
    argv = [
        f"--ServerApp.port={port}",
        f"--ServerApp.ip={ip}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_unauthenticated_access=False",
        f"--AMLExtension.root={root}",
        *(["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []),
        *(extra or []),
    ]
    AMLServeApp.launch_instance(argv)
