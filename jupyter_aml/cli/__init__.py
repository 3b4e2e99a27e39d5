"""The ``aml`` command line: a thin typer/rich layer over the SDK (``jupyter_aml.sdk``).

``aml serve`` runs the workspace service; every other command talks to a running service found through
``--url``/``--token``, ``JUPYTER_AML_URL``/``JUPYTER_AML_TOKEN`` or ``jupyter_aml.sdk.connect.connect``.
"""

from jupyter_aml.cli.app import app, main

__all__ = ["app", "main"]
