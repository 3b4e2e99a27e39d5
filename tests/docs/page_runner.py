"""One page's Python blocks in one interpreter, as doctest would: an IPython shell (so that ``%magics``
blocks run too) reading one JSON-encoded block per line from the first pipe of $DOC_RUNNER_FDS (stdin stays /dev/null,
so a block that prompts fails instead of eating the next block). Output and tracebacks go to stdout (the
test's log); the second pipe gets one JSON line per block: {"ok": bool, "error": str}."""

from __future__ import annotations

import json
import os
import sys

from IPython.core.interactiveshell import InteractiveShell


def main() -> None:
    shell = InteractiveShell.instance(colors="NoColor")
    blocks_fd, answers_fd = (int(fd) for fd in os.environ.pop("DOC_RUNNER_FDS").split(","))
    control = os.fdopen(answers_fd, "w")
    for line in os.fdopen(blocks_fd):
        code = json.loads(line)
        print(f"----- block -----\n{code}\n----- output -----", flush=True)
        result = shell.run_cell(code, store_history=True)
        sys.stdout.flush()
        sys.stderr.flush()
        error = result.error_before_exec or result.error_in_exec
        control.write(json.dumps({"ok": bool(result.success), "error": repr(error) if error else ""}) + "\n")
        control.flush()


if __name__ == "__main__":
    main()
