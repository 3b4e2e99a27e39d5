"""``python -m jupyter_aml.compute.deathsig CMD ARGS...``: run CMD so that it dies with the process that
started it (Linux PR_SET_PDEATHSIG, kept across exec), then exec it.

A Dask worker that dies (kill -9, a lost node, ``scale(0)``) would otherwise leave the run's agent and script
running untracked; ``preexec_fn`` is not safe in a threaded worker, so the signal is set here, in the child,
before the exec. Stdlib only: it runs wherever a node runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    if argv[:1] == ["--ignore-sigterm"]:  # a sandbox wrapper (bwrap) must outlive the SIGTERM meant for the agent
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        argv = argv[1:]
    if not argv:
        sys.exit("usage: python -m jupyter_aml.compute.deathsig [--ignore-sigterm] COMMAND [ARGS...]")
    parent = os.getppid()
    with contextlib.suppress(OSError):  # not Linux: the worker's own kill of the group is all there is
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        sys.exit(137)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
