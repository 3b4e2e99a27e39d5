"""Find a failed script's last Python traceback in its stderr, for the run's error headline.

A user reading a failed run wants "ZeroDivisionError: division by zero at train.py:12 in main", not
"script exited with code 1" with the exception buried in the log. The agent keeps the tail of the
script's stderr; this module reads the last traceback in it (the one that killed the script: with
chained exceptions, the final one) and names the exception, its message and the innermost frame.
Stdlib only, like the rest of the agent.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

_FRAME = re.compile(r'^\s+File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>.+?)\s*$')
# `pkg.mod.SomeError: message`, `SomeError` alone, or `pkg.mod.SomeError` (no message)
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")


@dataclass(frozen=True)
class ScriptException:
    """The exception that ended a script, and where it was raised."""

    type: str
    message: str
    file: str
    line: int
    function: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line} in {self.function}"

    @property
    def headline(self) -> str:
        what = f"{self.type}: {self.message}" if self.message else self.type
        return f"{what} at {self.where}"

    def as_error(self) -> dict[str, object]:
        """The run error's fields that name the exception (RunError in core/models.py)."""
        return {"code": "UserError", "exception_type": self.type, "exception_message": self.message,
                "frame": {"file": self.file, "line": self.line, "function": self.function}}


def _short_path(path: str, roots: Sequence[str]) -> str:
    """The frame's file relative to the run's working directory when it is in it (train.py, not /tmp/...)."""
    for root in roots:
        try:
            return PurePath(path).relative_to(root).as_posix()
        except ValueError:
            continue
    return path


def last_exception(lines: Sequence[str], roots: Sequence[str] = ()) -> ScriptException | None:
    """The last traceback's exception in ``lines`` (stderr, oldest first), or None when there is none.

    ``roots`` are the folders the script ran in (host and container paths): frames in them are shown
    relative. The traceback's header may have scrolled out of the tail; its last frame and the
    exception line that follows it are what count.
    """
    last_frame = -1
    for index, text in enumerate(lines):
        if _FRAME.match(text):
            last_frame = index
    if last_frame < 0:
        return None
    frame = _FRAME.match(lines[last_frame])
    assert frame is not None
    # After the frame: its source line and 3.11+'s ^^^^ markers (indented), then the exception line.
    for index in range(last_frame + 1, len(lines)):
        text = lines[index]
        if not text.strip() or text[:1].isspace():
            continue
        found = _EXCEPTION.match(text)
        if found is None:
            return None
        message = (found.group("message") or "").strip()  # its first line: the headline is one line
        return ScriptException(type=found.group("type"), message=message.strip()[:2000],
                               file=_short_path(frame.group("file"), roots), line=int(frame.group("line")),
                               function=frame.group("function"))
    return None


def script_error(ended: str, code: int, tail: Sequence[str], roots: Sequence[str] = (), *,
                 who: str = "") -> dict[str, object]:
    """The run error of a script (``who``: which process of a distributed run) that ended as ``ended`` says.

    The exception that killed it when its stderr shows one; else ``ended``, with, after an abort, the reason the
    process printed first ("terminate called without an active exception", "Fatal Python error: ..."): a
    bare "killed by signal SIGABRT" sends the user to the logs for the one line that explains it.
    """
    error: dict[str, object] = {"message": ended, "details": "\n".join(tail)}
    raised = last_exception(tail, roots)
    if raised is not None:
        error.update(raised.as_error(), message=f"{who}{raised.headline}")
    elif code == -signal.SIGABRT:
        said = next((line.strip() for line in reversed(tail) if line.strip()), "")
        if said:
            error["message"] = f"{ended}: {said[:300]}"
    return error
