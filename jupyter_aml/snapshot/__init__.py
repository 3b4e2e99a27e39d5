"""Source snapshots: scan a folder (.amlignore/.gitignore rules), hash it, id it, zip and unzip it safely.

Shared by the SDK (``scan``, ``manifest``, ``gitinfo`` at submit time), the service (manifest validation,
zips) and the run agent (``archive``: extraction). Import the submodules themselves: this package imports
nothing, so that the agent, which runs in user environments, loads only the stdlib modules ``archive``
needs and never ``scan``'s pathspec or ``gitinfo``'s GitPython.
"""
